package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.proxy.HttpDate;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** The file server's HTTP semantics (RFC 9110) seen by curl and by Java's HttpClient through a real River. */
class FileSemanticsTest {
    private static final String CONTENT = "0123456789abcdef";
    private static final Instant MTIME = Instant.parse("2020-01-02T03:04:05.123456789Z");
    private static final String LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT";
    private static final Instant FRESH_MTIME = Instant.now().plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    /** The documented scheme: "<size hex>-<mtime nanoseconds hex>". */
    private static final String ETAG = "\"10-" + Long.toHexString(MTIME.getEpochSecond() * 1_000_000_000L + MTIME.getNano()) + "\"";
    private static final String IMF_FIXDATE = "[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";

    @TempDir
    static Path dir;
    static RiverHarness river;
    static TestOrigin origin;
    static int port;
    static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        Path file = site.resolve("data.txt");
        Files.writeString(file, CONTENT);
        Files.setLastModifiedTime(file, FileTime.from(MTIME));
        // Modified "later than now" (a clock ahead, a touch -d): its Last-Modified is never a strong validator.
        Path fresh = site.resolve("fresh.txt");
        Files.writeString(fresh, CONTENT);
        Files.setLastModifiedTime(fresh, FileTime.from(FRESH_MTIME));
        origin = new TestOrigin();
        river = RiverHarness.start("""
                services {
                    proxied {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s"
                        }
                    }
                    files {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                }
                """.formatted(origin.address()), dir);
        port = river.port("files");
    }

    @AfterAll
    static void stop() throws Exception {
        river.close();
        origin.close();
    }

    record Reply(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** curl -i: the status, headers (lower-case names) and body of the one response. */
    static Reply curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-S", "-i", "--max-time", "20"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("curl exit status").isZero();
        String all = new String(out, StandardCharsets.ISO_8859_1);
        int end = all.indexOf("\r\n\r\n");
        String[] lines = all.substring(0, end).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(), (a, b) -> a + ", " + b);
        }
        byte[] body = all.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1);
        return new Reply(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
    }

    static String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    static HttpResponse<byte[]> java(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void everyAnswerCarriesAnImfFixdateWithinTheTestsClock() throws Exception {
        for (String path : new String[] {"/data.txt", "/missing.txt"}) {
            long before = Instant.now().getEpochSecond();
            HttpResponse<byte[]> r = java("GET", path);
            long after = Instant.now().getEpochSecond();
            String date = r.headers().firstValue("date").orElseThrow();
            assertThat(date).as(path).matches(IMF_FIXDATE);
            long second = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
            assertThat(second).as(path).isBetween(before, after);
        }
        long before = Instant.now().getEpochSecond();
        Reply rejected = curl("-X", "DELETE", url("/data.txt"));
        long after = Instant.now().getEpochSecond();
        assertThat(rejected.status()).isEqualTo(405);
        assertThat(ZonedDateTime.parse(rejected.header("date"), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond()).isBetween(before, after);
        // River's own errors, from the codec, before any module: a request line it refuses.
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /data.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
            RawHttp.Response bad = raw.read();
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.headers().get("date")).matches(IMF_FIXDATE);
        }
    }

    @Test
    void proxiedResponsesKeepTheOriginsDate() throws Exception {
        // The test origin sends no Date: River passes the response on without inventing one.
        Reply proxied = curl("http://127.0.0.1:" + river.port("proxied") + "/echo");
        assertThat(proxied.status()).isEqualTo(200);
        assertThat(proxied.header("x-origin")).isEqualTo("test");
        assertThat(proxied.header("date")).isNull();
    }

    @Test
    void notModifiedHasNoBodyAndKeepsTheConnectionUsable() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /data.txt HTTP/1.1\r\nHost: h\r\nIf-None-Match: " + ETAG + "\r\n\r\n");
            RawHttp.Response notModified = raw.read();
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(notModified.headers()).doesNotContainKey("transfer-encoding");
            assertThat(notModified.headers().get("etag")).isEqualTo(ETAG);
            raw.send("GET /data.txt HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.read().text()).isEqualTo(CONTENT);
        }
    }

    @Test
    void validatorsAndRangesAreAnnounced() throws Exception {
        Reply r = curl(url("/data.txt"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo(CONTENT);
        assertThat(r.header("etag")).isEqualTo(ETAG);
        assertThat(r.header("last-modified")).isEqualTo(LAST_MODIFIED);
        assertThat(r.header("accept-ranges")).isEqualTo("bytes");
        assertThat(r.header("x-content-type-options")).isEqualTo("nosniff");
    }

    @Test
    void ifNoneMatchGives304() throws Exception {
        Reply r = curl("-H", "If-None-Match: " + ETAG, url("/data.txt"));
        assertThat(r.status()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("etag")).isEqualTo(ETAG);
        assertThat(curl("-H", "If-None-Match: \"other\", W/" + ETAG, url("/data.txt")).status()).as("weak comparison in a list").isEqualTo(304);
        assertThat(java("GET", "/data.txt", "If-None-Match", "*").statusCode()).isEqualTo(304);
        assertThat(java("GET", "/data.txt", "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
    }

    @Test
    void ifModifiedSinceGives304AndIfNoneMatchWins() throws Exception {
        HttpResponse<byte[]> r = java("GET", "/data.txt", "If-Modified-Since", LAST_MODIFIED);
        assertThat(r.statusCode()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(curl("-H", "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT", url("/data.txt")).status()).isEqualTo(200);
        // RFC 9110 §13.2.2: If-None-Match is evaluated instead of If-Modified-Since.
        assertThat(curl("-H", "If-None-Match: \"other\"", "-H", "If-Modified-Since: " + LAST_MODIFIED, url("/data.txt")).status())
                .isEqualTo(200);
    }

    @Test
    void failedPreconditionsGive412() throws Exception {
        Reply r = curl("-H", "If-Match: \"other\"", url("/data.txt"));
        assertThat(r.status()).isEqualTo(412);
        assertThat(curl("-H", "If-Match: W/" + ETAG, url("/data.txt")).status()).as("strong comparison").isEqualTo(412);
        assertThat(curl("-H", "If-Match: " + ETAG, url("/data.txt")).status()).isEqualTo(200);
        assertThat(java("GET", "/data.txt", "If-Unmodified-Since", "Wed, 01 Jan 2020 00:00:00 GMT").statusCode()).isEqualTo(412);
        assertThat(java("GET", "/data.txt", "If-Unmodified-Since", LAST_MODIFIED).statusCode()).isEqualTo(200);
    }

    @Test
    void singleRangesGive206() throws Exception {
        Reply r = curl("-r", "2-5", url("/data.txt"));
        assertThat(r.status()).isEqualTo(206);
        assertThat(r.text()).isEqualTo("2345");
        assertThat(r.header("content-range")).isEqualTo("bytes 2-5/16");
        assertThat(r.header("content-length")).isEqualTo("4");
        Reply suffix = curl("-H", "Range: bytes=-3", url("/data.txt"));
        assertThat(suffix.text()).isEqualTo("def");
        assertThat(suffix.header("content-range")).isEqualTo("bytes 13-15/16");
        HttpResponse<byte[]> open = java("GET", "/data.txt", "Range", "bytes=10-");
        assertThat(open.statusCode()).isEqualTo(206);
        assertThat(new String(open.body(), StandardCharsets.US_ASCII)).isEqualTo("abcdef");
        assertThat(open.headers().firstValue("content-range")).hasValue("bytes 10-15/16");
    }

    @Test
    void multipleRangesGiveMultipartByteranges() throws Exception {
        HttpResponse<byte[]> r = java("GET", "/data.txt", "Range", "bytes=0-1, 4-5,-2");
        assertThat(r.statusCode()).isEqualTo(206);
        String type = r.headers().firstValue("content-type").orElseThrow();
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        List<String[]> parts = parts(new String(r.body(), StandardCharsets.ISO_8859_1), type.substring(type.indexOf('=') + 1));
        assertThat(parts).hasSize(3);
        assertThat(parts.get(0)[0]).contains("Content-Range: bytes 0-1/16").contains("Content-Type: text/plain; charset=utf-8");
        assertThat(parts.get(0)[1]).isEqualTo("01");
        assertThat(parts.get(1)[0]).contains("Content-Range: bytes 4-5/16");
        assertThat(parts.get(1)[1]).isEqualTo("45");
        assertThat(parts.get(2)[0]).contains("Content-Range: bytes 14-15/16");
        assertThat(parts.get(2)[1]).isEqualTo("ef");
        Reply viaCurl = curl("-r", "0-0,15-15", url("/data.txt"));
        assertThat(viaCurl.status()).isEqualTo(206);
        assertThat(viaCurl.header("content-type")).startsWith("multipart/byteranges");
        // Overlapping or too many ranges: the whole file (RFC 9110 §14.2 lets a server ignore Range).
        assertThat(curl("-r", "0-5,3-8", url("/data.txt")).status()).isEqualTo(200);
        assertThat(curl("-r", "0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,15-15,0-0", url("/data.txt")).status())
                .isEqualTo(200);
    }

    /** Splits a multipart/byteranges body into {headers, content} pairs. */
    static List<String[]> parts(String body, String boundary) {
        List<String[]> parts = new ArrayList<>();
        String delimiter = "--" + boundary;
        assertThat(body).endsWith(delimiter + "--\r\n");
        for (String chunk : body.substring(0, body.length() - (delimiter + "--\r\n").length()).split(java.util.regex.Pattern.quote(delimiter + "\r\n"))) {
            if (chunk.isEmpty()) {
                continue;
            }
            int split = chunk.indexOf("\r\n\r\n");
            assertThat(chunk).endsWith("\r\n");
            parts.add(new String[] {chunk.substring(0, split), chunk.substring(split + 4, chunk.length() - 2)});
        }
        return parts;
    }

    @Test
    void unsatisfiableRangesGive416WithTheSize() throws Exception {
        Reply r = curl("-r", "16-20", url("/data.txt"));
        assertThat(r.status()).isEqualTo(416);
        assertThat(r.header("content-range")).isEqualTo("bytes */16");
        assertThat(java("GET", "/data.txt", "Range", "bytes=-0").statusCode()).isEqualTo(416);
    }

    @Test
    void ifRangeServesThePartOnlyWhileTheFileIsUnchanged() throws Exception {
        assertThat(curl("-r", "0-1", "-H", "If-Range: " + ETAG, url("/data.txt")).status()).isEqualTo(206);
        Reply stale = curl("-r", "0-1", "-H", "If-Range: \"stale\"", url("/data.txt"));
        assertThat(stale.status()).isEqualTo(200);
        assertThat(stale.text()).isEqualTo(CONTENT);
        assertThat(java("GET", "/data.txt", "Range", "bytes=0-1", "If-Range", LAST_MODIFIED).statusCode()).isEqualTo(206);
        assertThat(java("GET", "/data.txt", "Range", "bytes=0-1", "If-Range", "Fri, 03 Jan 2020 00:00:00 GMT").statusCode()).isEqualTo(200);
        // The obsolete date forms (RFC 9110 §5.6.7) are understood too.
        assertThat(curl("-r", "0-1", "-H", "If-Range: Thursday, 02-Jan-20 03:04:05 GMT", url("/data.txt")).status()).isEqualTo(206);
        assertThat(curl("-r", "0-1", "-H", "If-Range: Thu Jan  2 03:04:05 2020", url("/data.txt")).status()).isEqualTo(206);
    }

    /** A Last-Modified less than a second before the Date (here: ahead of it) is weak, and If-Range needs a strong one. */
    @Test
    void ifRangeWithTheDateOfAFileChangedTooRecentlySendsTheWholeFile() throws Exception {
        Reply plain = curl(url("/fresh.txt"));
        String lastModified = plain.header("last-modified");
        assertThat(lastModified).isEqualTo(HttpDate.format(FRESH_MTIME.getEpochSecond()));
        Reply whole = curl("-r", "0-1", "-H", "If-Range: " + lastModified, url("/fresh.txt"));
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.text()).isEqualTo(CONTENT);
        assertThat(curl("-r", "0-1", "-H", "If-Range: " + plain.header("etag"), url("/fresh.txt")).status())
                .as("its strong ETag still holds").isEqualTo(206);
    }

    @Test
    void conditionsAcceptTheObsoleteDateForms() throws Exception {
        assertThat(curl("-H", "If-Modified-Since: Thursday, 02-Jan-20 03:04:05 GMT", url("/data.txt")).status()).isEqualTo(304);
        assertThat(curl("-H", "If-Modified-Since: Thu Jan  2 03:04:04 2020", url("/data.txt")).status()).isEqualTo(200);
        assertThat(curl("-H", "If-Unmodified-Since: Wed Jan  1 00:00:00 2020", url("/data.txt")).status()).isEqualTo(412);
    }

    @Test
    void otherMethodsGet405WithAllowAndOptionsGets204() throws Exception {
        for (String method : new String[] {"DELETE", "POST", "PUT"}) {
            Reply r = curl("-X", method, url("/data.txt"));
            assertThat(r.status()).as(method).isEqualTo(405);
            assertThat(r.header("allow")).as(method).isEqualTo("GET, HEAD, OPTIONS");
        }
        HttpResponse<byte[]> options = java("OPTIONS", "/data.txt");
        assertThat(options.statusCode()).isEqualTo(204);
        assertThat(options.headers().firstValue("allow")).hasValue("GET, HEAD, OPTIONS");
    }

    @Test
    void headHasTheHeadersOfGetButNoBody() throws Exception {
        Reply get = curl(url("/data.txt"));
        Reply head = curl("-I", url("/data.txt"));
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        for (String name : List.of("content-type", "content-length", "etag", "last-modified", "accept-ranges", "x-content-type-options")) {
            assertThat(head.header(name)).as(name).isNotNull().isEqualTo(get.header(name));
        }
        HttpResponse<byte[]> ranged = java("HEAD", "/data.txt", "Range", "bytes=2-5");
        assertThat(ranged.statusCode()).isEqualTo(206);
        assertThat(ranged.headers().firstValue("content-range")).hasValue("bytes 2-5/16");
        assertThat(ranged.body()).isEmpty();
        // No body bytes follow a HEAD answer (206 included): the next response on the connection is intact.
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("HEAD /data.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1,4-5\r\n\r\n");
            assertThat(raw.read(true).status()).isEqualTo(206);
            raw.send("HEAD /data.txt HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.read(true).headers().get("content-length")).isEqualTo("16");
            raw.send("GET /data.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=2-3\r\n\r\n");
            assertThat(raw.read().text()).isEqualTo("23");
        }
    }
}
