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

/** overload's write-timeout-ms: a client that stops reading the response is disconnected. */
class SlowReaderTest {

    @Test
    void aClientThatStopsReadingIsDisconnectedAfterTheWriteTimeout() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start("""
                        services {
                            bounded {
                                listeners {
                                    "127.0.0.1:0"
                                }
                                connectors {
                                    "%s"
                                }
                                overload {
                                    write-timeout-ms 500
                                }
                            }
                        }
                        """.formatted(origin.address()));
                Socket client = new Socket()) {
            client.setReceiveBufferSize(4096);
            client.connect(new InetSocketAddress("127.0.0.1", river.port("bounded")));
            client.getOutputStream().write("GET /bytes?n=200000000 HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            Thread.sleep(2500); // not reading: River's send buffer fills and the response stalls
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
            assertThat(received).as("cut off long before the 200 MB body").isLessThan(50_000_000L);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(12_000);
            assertThat(origin.bytesWritten.get()).as("the origin was not read to the end either").isLessThan(200_000_000L);
        }
    }
}
