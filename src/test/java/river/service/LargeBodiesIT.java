package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverHarness;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/** 100 MB each way through River running in a 64 MB heap: bodies stream, they are never buffered. */
class LargeBodiesIT {
    static final long SIZE = 100L * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void hundredMegabytesUpAndDownThroughA64MegabyteHeap() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(2, "", origin.address()));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of("-Xmx64m", "-XX:MaxDirectMemorySize=64m"),
                    "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

                MessageDigest sent = MessageDigest.getInstance("SHA-256");
                HttpResponse<String> upload = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(SIZE, sent))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(upload.statusCode()).isEqualTo(200);
                assertThat(upload.body()).contains("body-length: " + SIZE, "body-sha256: " + HexFormat.of().formatHex(sent.digest()));

                HttpResponse<InputStream> download = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/bytes?n=" + SIZE)).build(), HttpResponse.BodyHandlers.ofInputStream());
                MessageDigest received = MessageDigest.getInstance("SHA-256");
                long count = 0;
                try (InputStream in = download.body()) {
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(buf)) != -1) {
                        received.update(buf, 0, n);
                        count += n;
                    }
                }
                MessageDigest expected = MessageDigest.getInstance("SHA-256");
                try (InputStream in = new PatternStream(SIZE, expected)) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
                assertThat(count).isEqualTo(SIZE);
                assertThat(received.digest()).isEqualTo(expected.digest());
                assertThat(river.process().isAlive()).isTrue();
                assertThat(Files.readString(river.stderr())).doesNotContain("OutOfMemoryError");
                // River runs with leak detection at PARANOID (RiverProcess): make it look now, and fail on a report.
                river.assertNoLeaks(port);
            }
        }
    }

    /** The origin's byte pattern as a stream, hashing what it hands out. */
    static final class PatternStream extends InputStream {
        private final long size;
        private final MessageDigest digest;
        private long position;

        PatternStream(long size, MessageDigest digest) {
            this.size = size;
            this.digest = digest;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) {
                b[off + i] = TestOrigin.pattern(position + i);
            }
            digest.update(b, off, n);
            position += n;
            return n;
        }
    }
}
