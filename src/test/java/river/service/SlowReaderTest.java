package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** overload's slow-reader bounds: a client that does not take the response is disconnected. */
class SlowReaderTest {
    private static final long BODY = 200_000_000L;

    /**
     * Asks River (with the given overload settings) for a 200 MB body, reads nothing for
     * {@code stallMs}, then reads what is left; returns the bytes received.
     */
    private static long bytesAfterStalling(String overload, long stallMs, TestOrigin origin) throws Exception {
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
            Thread.sleep(stallMs); // not reading: River's send buffer fills and the response stalls
            client.setSoTimeout(10_000);
            long received = 0;
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[65536];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    received += n;
                }
            } catch (IOException reset) {
                // A reset is as good as an end: River gave up on this client.
            }
            return received;
        }
    }

    @Test
    void aClientThatStopsReadingIsDisconnectedAfterTheWriteTimeout() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            long start = System.nanoTime();
            long received = bytesAfterStalling("write-timeout-ms 500", 2500, origin);
            assertThat(received).as("cut off long before the 200 MB body").isLessThan(50_000_000L);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(12_000);
            assertThat(origin.bytesWritten.get()).as("the origin was not read to the end either").isLessThan(BODY);
        }
    }

    @Test
    void aClientTakingTheResponseTooSlowlyIsDisconnected() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            // Past the 5 s grace having taken a few hundred KB: far below 50 MB/s.
            long received = bytesAfterStalling("min-send-rate-bytes 50000000", 7000, origin);
            assertThat(received).as("cut off long before the 200 MB body").isLessThan(50_000_000L);
        }
    }
}
