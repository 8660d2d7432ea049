package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * A client that leaves in the middle of a compressed body: River drops the encoder with what it holds
 * (the leak detector, PARANOID in every test JVM, fails this class otherwise) and the origin's
 * connection, for each coding.
 */
class CompressionAbortTest {
    @Test
    void clientLeavingMidBodyReleasesTheEncoder() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "compression { enabled true; }", origin.address()))) {
            int closed = 0;
            for (String coding : new String[] {"gzip", "br", "zstd"}) {
                try (Socket client = new Socket("127.0.0.1", river.port("proxy"))) {
                    client.setSoTimeout(30_000);
                    client.getOutputStream().write(("GET /bytes?n=" + (64 << 20) + "&noise&type=text/plain HTTP/1.1\r\nHost: h\r\n"
                            + "Accept-Encoding: " + coding + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    InputStream in = client.getInputStream();
                    byte[] buf = new byte[64 * 1024];
                    int got = 0;
                    StringBuilder head = new StringBuilder();
                    while (got < 256 * 1024) {
                        int n = in.read(buf);
                        assertThat(n).isPositive();
                        if (head.length() < 4096) {
                            head.append(new String(buf, 0, Math.min(n, 4096), StandardCharsets.ISO_8859_1));
                        }
                        got += n;
                    }
                    assertThat(head.toString().toLowerCase()).contains("content-encoding: " + coding);
                }
                int expected = ++closed;
                // River gives up the origin's connection mid-body once it sees the client gone.
                Eventually.await(() -> origin.connectionsClosed() >= expected, 30_000);
            }
        }
    }
}
