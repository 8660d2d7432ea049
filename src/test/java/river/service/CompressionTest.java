package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Response compression on the fly through the real path: River proxying {@link TestOrigin} (and serving
 * files), curl as the client over HTTP/1.1 and HTTP/2, the bodies decoded by curl and by Java's decoders.
 */
class CompressionTest {
    private static final int SIZE = 100 * 1024;

    @TempDir
    static Path dir;
    private static TestOrigin origin;
    private static RiverHarness river;
    private static int proxy;
    private static int files;
    private static byte[] expected;
    /** A file well over what was once the limit for compressing files (1 MiB), about half as long compressed. */
    private static final int LARGE = 12 * 1024 * 1024;
    private static byte[] large;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        expected = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            expected[i] = TestOrigin.pattern(i);
        }
        Files.createDirectories(dir.resolve("site"));
        Files.write(dir.resolve("site/page.txt"), expected);
        large = new byte[LARGE];
        for (int i = 0; i < LARGE; i++) {
            large[i] = TestOrigin.noise(i);
        }
        Files.write(dir.resolve("site/large.txt"), large);
        river = RiverHarness.start("""
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%s"
                        }
                        compression {
                            enabled true
                            algorithms "br,zstd,gzip"
                            min-size 1024
                        }
                    }
                    files {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        file-server {
                            base-path "site"
                        }
                        compression {
                            enabled true
                            algorithms "br,zstd,gzip"
                        }
                    }
                    plain {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address(), origin.address()), dir);
        proxy = river.port("proxy");
        files = river.port("files");
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    /** What curl got: the head's lines (lower-cased names) and the body's bytes as they came. */
    record Got(int status, List<String> headers, byte[] body) {
        String header(String name) {
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            String found = null;
            for (String h : headers) {
                if (h.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                    found = found == null ? h.substring(prefix.length()).trim() : found + ", " + h.substring(prefix.length()).trim();
                }
            }
            return found;
        }
    }

    private static Got curl(int port, String path, String... options) throws Exception {
        Path head = Files.createTempFile(dir, "head", ".txt");
        Path body = Files.createTempFile(dir, "body", ".bin");
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "20", "-D", head.toString(), "-o", body.toString()));
        cmd.addAll(List.of(options));
        cmd.add("http://127.0.0.1:" + port + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("curl: " + out).isZero();
        List<String> lines = Files.readAllLines(head, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(lines.get(0).split(" ")[1]);
        return new Got(status, lines.subList(1, lines.size()), Files.readAllBytes(body));
    }

    private static final String TEXT = "/bytes?n=" + SIZE + "&type=text/plain;%20charset=utf-8";

    @Test
    void gzipDecodedByCurlAndByJava() throws Exception {
        Got raw = curl(proxy, TEXT, "-H", "Accept-Encoding: gzip");
        assertThat(raw.header("content-encoding")).isEqualTo("gzip");
        assertThat(raw.header("content-length")).isNull();
        assertThat(raw.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(raw.body().length).isLessThan(SIZE / 4);
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
        Got decoded = curl(proxy, TEXT, "--compressed");
        assertThat(decoded.header("content-encoding")).isNotNull();
        assertThat(decoded.body()).isEqualTo(expected);
    }

    @Test
    void brotliIsPreferredAndRoundTrips() throws Exception {
        Brotli4jLoader.ensureAvailability();
        Got raw = curl(proxy, TEXT, "-H", "Accept-Encoding: gzip, deflate, br, zstd");
        assertThat(raw.header("content-encoding")).isEqualTo("br");
        try (InputStream in = new BrotliInputStream(new ByteArrayInputStream(raw.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
        assertThat(curl(proxy, TEXT, "--compressed", "-H", "Accept-Encoding: br").body()).isEqualTo(expected);
    }

    @Test
    void zstdChosenByQValuesAndRoundTrips() throws Exception {
        Got raw = curl(proxy, TEXT + "&chunked", "-H", "Accept-Encoding: br;q=0.5, zstd, gzip;q=0.9");
        assertThat(raw.header("content-encoding")).isEqualTo("zstd");
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(raw.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
        assertThat(curl(proxy, TEXT, "--compressed", "-H", "Accept-Encoding: zstd").body()).isEqualTo(expected);
    }

    @Test
    void refusalsAndIdentityAreHonoured() throws Exception {
        Got refused = curl(proxy, TEXT, "-H", "Accept-Encoding: gzip;q=0, br;q=0, zstd;q=0, *;q=0");
        assertThat(refused.header("content-encoding")).isNull();
        assertThat(refused.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(refused.body()).isEqualTo(expected);
        Got star = curl(proxy, TEXT, "-H", "Accept-Encoding: *;q=0.1, br;q=0");
        assertThat(star.header("content-encoding")).isEqualTo("zstd");
        Got none = curl(proxy, TEXT);
        assertThat(none.header("content-encoding")).isNull();
        assertThat(none.header("content-length")).isEqualTo(String.valueOf(SIZE));
    }

    @Test
    void strongEtagBecomesWeakAndVaryIsMerged() throws Exception {
        Got got = curl(proxy, TEXT + "&h=ETag:%22v7%22&h=Vary:Origin", "-H", "Accept-Encoding: gzip");
        assertThat(got.header("content-encoding")).isEqualTo("gzip");
        assertThat(got.header("etag")).isEqualTo("W/\"v7\"");
        assertThat(got.header("vary")).isEqualTo("Origin, Accept-Encoding");
        Got identity = curl(proxy, TEXT + "&h=ETag:%22v7%22", "-H", "Accept-Encoding: identity");
        assertThat(identity.header("etag")).isEqualTo("\"v7\"");
    }

    @Test
    void exclusionsLeaveTheBodyUntouched() throws Exception {
        List<String> excluded = List.of(
                "/bytes?n=" + SIZE + "&type=application/octet-stream",
                "/bytes?n=" + SIZE + "&type=text/event-stream",
                TEXT + "&h=Content-Encoding:identity2",
                TEXT + "&h=Cache-Control:public,%20no-transform",
                TEXT + "&code=206&h=Content-Range:bytes%200-102399/200000",
                "/bytes?n=100&type=text/plain");
        for (String path : excluded) {
            Got got = curl(proxy, path, "-H", "Accept-Encoding: gzip, br, zstd");
            assertThat(got.header("content-encoding")).as(path).isIn(null, "identity2");
            assertThat(got.body()).as(path).isEqualTo(java.util.Arrays.copyOf(expected, got.body().length));
            assertThat(got.body().length).as(path).isEqualTo(path.startsWith("/bytes?n=100&") ? 100 : SIZE);
        }
        Got head = curl(proxy, TEXT, "-I", "-H", "Accept-Encoding: gzip");
        assertThat(head.header("content-encoding")).isNull();
        assertThat(head.header("content-length")).isEqualTo(String.valueOf(SIZE));
        for (String code : new String[] {"204", "304"}) {
            Got empty = curl(proxy, "/status?code=" + code, "-H", "Accept-Encoding: gzip");
            assertThat(empty.status()).isEqualTo(Integer.parseInt(code));
            assertThat(empty.header("content-encoding")).as(code).isNull();
            assertThat(empty.header("transfer-encoding")).as(code).isNull();
        }
        Got off = curl(river.port("plain"), TEXT, "-H", "Accept-Encoding: gzip");
        assertThat(off.header("content-encoding")).as("a service without compression").isNull();
        assertThat(off.body()).isEqualTo(expected);
    }

    @Test
    void keepAliveCarriesCompressedAndPlainResponsesInTurn() throws Exception {
        Path a = Files.createTempFile(dir, "a", ".bin");
        Path b = Files.createTempFile(dir, "b", ".bin");
        String url = "http://127.0.0.1:" + proxy + TEXT;
        Process p = new ProcessBuilder("curl", "-sS", "-m", "20", "--compressed", "-w", "%{num_connects}\\n",
                url, "-o", a.toString(), url + "&type=application/octet-stream", "-o", b.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out.trim().split("\\s+")).containsExactly("1", "0");
        assertThat(Files.readAllBytes(a)).isEqualTo(expected);
        assertThat(Files.readAllBytes(b)).isEqualTo(expected);
    }

    @Test
    void http2DownstreamIsCompressed() throws Exception {
        Got raw = curl(proxy, TEXT, "--http2-prior-knowledge", "-H", "Accept-Encoding: gzip");
        assertThat(raw.header("content-encoding")).isEqualTo("gzip");
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
        assertThat(curl(proxy, TEXT, "--http2-prior-knowledge", "--compressed").body()).isEqualTo(expected);
    }

    @Test
    void filesAreCompressedToo() throws Exception {
        Got raw = curl(files, "/page.txt", "-H", "Accept-Encoding: gzip");
        assertThat(raw.header("content-encoding")).isEqualTo("gzip");
        assertThat(raw.header("vary")).isEqualToIgnoringCase("accept-encoding");
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
        assertThat(curl(files, "/page.txt", "--compressed").body()).isEqualTo(expected);
    }

    /** A body decoded with Java's decoder for the coding (gzip: the JDK; br: brotli4j; zstd: zstd-jni). */
    static byte[] decode(String coding, byte[] body) throws java.io.IOException {
        Brotli4jLoader.ensureAvailability();
        try (InputStream in = switch (coding) {
            case "gzip" -> new GZIPInputStream(new ByteArrayInputStream(body));
            case "br" -> new BrotliInputStream(new ByteArrayInputStream(body));
            case "zstd" -> new ZstdInputStream(new ByteArrayInputStream(body));
            default -> throw new IllegalArgumentException(coding);
        }) {
            return in.readAllBytes();
        }
    }

    /**
     * Each coding over HTTP/1.1 and over HTTP/2 (h2c; curl's --http2-prior-knowledge), for a proxied
     * response and for a 12 MiB file, which streams through the encoder a piece at a time as the
     * connection takes it; decoded by Java's decoders and by curl itself.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} over HTTP/{1}")
    @org.junit.jupiter.params.provider.CsvSource({"gzip,1.1", "br,1.1", "zstd,1.1", "gzip,2", "br,2", "zstd,2"})
    void everyCodingOverHttp1AndHttp2ForProxiedResponsesAndLargeFiles(String coding, String version) throws Exception {
        String protocol = version.equals("2") ? "--http2-prior-knowledge" : "--http1.1";
        Got proxied = curl(proxy, TEXT, protocol, "-H", "Accept-Encoding: " + coding);
        assertThat(proxied.header("content-encoding")).isEqualTo(coding);
        assertThat(decode(coding, proxied.body())).isEqualTo(expected);
        Got file = curl(files, "/large.txt", protocol, "-H", "Accept-Encoding: " + coding);
        assertThat(file.header("content-encoding")).isEqualTo(coding);
        assertThat(file.header("content-length")).isNull();
        assertThat(file.header("etag")).startsWith("W/\"");
        assertThat(file.body().length).as("compressed").isLessThan(LARGE * 3 / 4);
        assertThat(decode(coding, file.body())).isEqualTo(large);
        assertThat(curl(files, "/large.txt", protocol, "--compressed", "-H", "Accept-Encoding: " + coding).body()).isEqualTo(large);
    }

    /**
     * A multi-MiB body to a client that does not read: River stops reading the origin, so memory stays
     * bounded. A River and origin of its own: a pooled upstream connection's kernel buffers, grown by
     * earlier transfers, would hold more than the bound.
     */
    @Test
    void compressionKeepsBackpressure() throws Exception {
        long size = 96L * 1024 * 1024;
        try (TestOrigin fresh = new TestOrigin();
                RiverHarness own = RiverHarness.start(RiverHarness.proxyConfig(1, "compression { enabled true; }", fresh.address()));
                Socket client = new Socket("127.0.0.1", own.port("proxy"))) {
            client.setSoTimeout(30_000);
            client.getOutputStream().write(("GET /bytes?n=" + size + "&noise&type=text/plain HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // Either the origin wrote it all (River kept reading: no backpressure), or it is stuck: stalled
            // with the same count over 25 polls (half a second), since River stopped reading it.
            long[] last = {-1, 0};
            Eventually.await(() -> {
                long now = fresh.bytesWritten.get();
                if (now == size) {
                    return true;
                }
                last[1] = fresh.streamsWaitingToWrite() == 1 && now == last[0] ? last[1] + 1 : 0;
                last[0] = now;
                return last[1] >= 25;
            }, 60_000);
            // Socket buffers on both hops hold a few megabytes; River itself about one chunk and the encoder's window.
            assertThat(fresh.bytesWritten.get()).as("written by the origin while the client reads nothing").isLessThan(32L * 1024 * 1024);
            // Reading it all decodes to the whole body.
            InputStream in = client.getInputStream();
            java.io.ByteArrayOutputStream headBytes = new java.io.ByteArrayOutputStream();
            int c;
            while (!headBytes.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n") && (c = in.read()) != -1) {
                headBytes.write(c);
            }
            assertThat(headBytes.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT)).contains("content-encoding: gzip", "transfer-encoding: chunked");
            long total = 0;
            try (InputStream body = new GZIPInputStream(new Dechunk(in), 64 * 1024)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = body.read(buf)) != -1) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] != TestOrigin.noise(total + i)) {
                            throw new AssertionError("byte " + (total + i) + " differs");
                        }
                    }
                    total += n;
                }
            }
            assertThat(total).isEqualTo(size);
        }
    }

    /** Reads an HTTP/1.1 chunked body. */
    private static final class Dechunk extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        Dechunk(InputStream in) {
            this.in = in;
        }

        private String line() throws java.io.IOException {
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        @Override
        public int read() throws java.io.IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                left = Long.parseLong(line().trim(), 16);
                if (left == 0) {
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            left -= n;
            if (left == 0) {
                line();
            }
            return n;
        }
    }
}
