package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** A client that does not read makes River stop reading from the origin: memory stays bounded. */
class BackpressureTest {
    /** Socket buffers on both hops hold a few megabytes; River itself holds about one chunk. */
    private static final long IN_FLIGHT_BOUND = 32L * 1024 * 1024;

    @Test
    void slowClientMakesRiverStopReadingFromTheOrigin() throws Exception {
        long size = 96L * 1024 * 1024;
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()));
                Socket client = new Socket("127.0.0.1", river.port("proxy"))) {
            client.setSoTimeout(30_000);
            client.getOutputStream().write("GET /bytes?n=100663296 HTTP/1.1\r\nHost: h\r\n\r\n".getBytes());
            // The client reads nothing: the origin's socket fills up once River stops reading it.
            Eventually.await(() -> origin.streamsWaitingToWrite() == 1, 30_000);
            assertThat(origin.bytesWritten.get()).as("written before the origin had to wait").isLessThan(IN_FLIGHT_BOUND);

            // While the client reads, what the origin has written stays within a bound of what the
            // client received: River never buffers the body.
            InputStream in = client.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long total = 0;
            long mostInFlight = 0;
            int headerEnd = -1;
            int n;
            java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
            while (headerEnd < 0 && (n = in.read(buf)) != -1) {
                head.write(buf, 0, n);
                String text = head.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
                headerEnd = text.indexOf("\r\n\r\n");
                if (headerEnd >= 0) {
                    total = head.size() - (headerEnd + 4);
                }
            }
            while (total < size && (n = in.read(buf)) != -1) {
                total += n;
                mostInFlight = Math.max(mostInFlight, origin.bytesWritten.get() - total);
            }
            assertThat(total).isEqualTo(size);
            assertThat(mostInFlight).as("bytes written by the origin but not yet received by the client").isLessThan(IN_FLIGHT_BOUND);
        }
    }
}
