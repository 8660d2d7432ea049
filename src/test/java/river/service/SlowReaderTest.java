package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** overload's slow-reader bounds: a client that does not take the response is disconnected. */
class SlowReaderTest {
    private static final long BODY = 200_000_000L;

    /**
     * Asks River (with the given overload settings) for a 200 MB body and reads nothing until River
     * gives up on the client, which it shows by closing the origin connection it was relaying from;
     * then reads what is left, which must end (EOF or reset), and returns the bytes received.
     */
    private static long bytesReceivedBeforeRiverGivesUp(String overload, TestOrigin origin) throws Exception {
        try (RiverHarness river = RiverHarness.start("""
                        services {
                            bounded {
                                listeners {
                                    "127.0.0.1:0"
                                }
                                connectors {
                                    "%s"
                                }
                                overload {
                                    %s
                                }
                            }
                        }
                        """.formatted(origin.address(), overload));
                Socket client = new Socket()) {
            client.setReceiveBufferSize(4096);
            client.connect(new InetSocketAddress("127.0.0.1", river.port("bounded")));
            client.getOutputStream().write(("GET /bytes?n=" + BODY + " HTTP/1.1\r\nHost: h\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // Not reading: River's send buffer fills, the response stalls, and River drops both sides.
            Eventually.await(() -> origin.connectionsClosed() == 1, 60_000);
            client.setSoTimeout(30_000);
            long received = 0;
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[65536];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    received += n;
                }
            } catch (SocketTimeoutException stillOpen) {
                throw new AssertionError("River kept the client connection open", stillOpen);
            } catch (IOException reset) {
                // A reset is as good as an end: River gave up on this client.
            }
            return received;
        }
    }

    @Test
    void aClientThatStopsReadingIsDisconnectedAfterTheWriteTimeout() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            long received = bytesReceivedBeforeRiverGivesUp("write-timeout-ms 500", origin);
            assertThat(received).as("cut off long before the 200 MB body").isLessThan(50_000_000L);
            assertThat(origin.bytesWritten.get()).as("the origin was not read to the end either").isLessThan(BODY);
        }
    }

    @Test
    void aClientTakingTheResponseTooSlowlyIsDisconnected() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            // Past the 5 s grace having taken a few hundred KB: far below 50 MB/s.
            long received = bytesReceivedBeforeRiverGivesUp("min-send-rate-bytes 50000000", origin);
            assertThat(received).as("cut off long before the 200 MB body").isLessThan(50_000_000L);
            assertThat(origin.bytesWritten.get()).as("the origin was not read to the end either").isLessThan(BODY);
        }
    }
}
