package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import river.observe.AccessLog;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.StuckOutputStream;
import river.testsupport.TestOrigin;

/** The access log through the real River: a real origin, real clients, lines read back from where River wrote them. */
class AccessLogTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** The documented fields of a JSON line (docs/observability.md#logs); reused and attempts only when an upstream was chosen, error only on failure. */
    static final Set<String> ALWAYS = Set.of("ts", "service", "client", "method", "path", "status", "bytes_in", "bytes_out", "upstream",
            "connect_ms", "head_ms", "total_ms");
    static final Set<String> WITH_UPSTREAM = Set.of("reused", "attempts");
    static TestOrigin origin;
    static ch.qos.logback.classic.Logger switchLogger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("river.access");
    static Level levelBefore;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        levelBefore = switchLogger.getLevel();
        switchLogger.setLevel(Level.INFO); // the tests' logback-test.xml turns the access log off
    }

    @AfterAll
    static void stop() {
        switchLogger.setLevel(levelBefore);
        origin.close();
    }

    private static String config(String accessLog) {
        return RiverHarness.proxyConfig(2, "", origin.address()).replace("system {\n", "system {\n  " + accessLog + "\n");
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        // Bounded only so that an event loop stuck on the log fails the test instead of hanging it.
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(java.time.Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Every line of the file and of its rotated siblings (NAME.date.N), oldest first. */
    private static List<String> lines(Path file) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(file.getParent())) {
            files = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith(file.getFileName().toString() + ".")).sorted((a, b) -> {
                String x = a.getFileName().toString();
                String y = b.getFileName().toString();
                return Long.compare(Long.parseLong(x.substring(x.lastIndexOf('.') + 1)), Long.parseLong(y.substring(y.lastIndexOf('.') + 1)));
            }).toList());
        }
        if (Files.exists(file)) {
            files.add(file);
        }
        List<String> all = new ArrayList<>();
        for (Path f : files) {
            all.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
        }
        return all;
    }

    private static List<String> awaitLines(Path file, int n) throws Exception {
        Eventually.await(() -> {
            try {
                return lines(file).size() >= n;
            } catch (IOException e) {
                return false;
            }
        }, 10_000);
        List<String> got = lines(file);
        assertThat(got).hasSize(n);
        return got;
    }

    @Test
    void jsonLinesParseAndCarryTheDocumentedFields() throws Exception {
        Path file = dir.resolve("access.json");
        try (RiverHarness river = RiverHarness.start(config("access-log \"" + file + "\" format=\"json\""))) {
            int port = river.port("proxy");
            long before = System.currentTimeMillis();
            assertThat(get(port, "/bytes?n=1000").statusCode()).isEqualTo(200);
            HttpResponse<String> post = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status?code=204"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(300))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(204);
            assertThat(get(port, "/q%22uote/caf%C3%A9").statusCode()).isEqualTo(200);
            // Bytes no URI class sends: a quote, a backslash and UTF-8 as they are on the wire.
            try (RawHttp raw = new RawHttp(port)) {
                raw.send("GET /raw/\"q\"/b\\s/".getBytes(StandardCharsets.US_ASCII));
                raw.send("caf\u00e9/\u65e5 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.UTF_8));
                assertThat(raw.read().status()).isEqualTo(200);
            }
            long after = System.currentTimeMillis();
            List<String> lines = awaitLines(file, 4);
            List<JsonNode> parsed = new ArrayList<>();
            for (String line : lines) {
                JsonNode n = JSON.readTree(line);
                assertThat(n.isObject()).isTrue();
                Set<String> names = new java.util.HashSet<>();
                n.fieldNames().forEachRemaining(names::add);
                Set<String> expected = new java.util.HashSet<>(ALWAYS);
                expected.addAll(WITH_UPSTREAM);
                assertThat(names).as(line).isEqualTo(expected);
                Instant ts = Instant.parse(n.get("ts").asText());
                assertThat(n.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
                assertThat(ts.toEpochMilli()).isBetween(before, after + 1000);
                assertThat(n.get("service").asText()).isEqualTo("proxy");
                assertThat(n.get("client").asText()).isEqualTo("127.0.0.1");
                assertThat(n.get("upstream").asText()).isEqualTo(origin.address());
                assertThat(n.get("status").isInt()).isTrue();
                assertThat(n.get("bytes_in").isIntegralNumber()).isTrue();
                assertThat(n.get("bytes_out").isIntegralNumber()).isTrue();
                assertThat(n.get("reused").isBoolean()).isTrue();
                assertThat(n.get("attempts").asInt()).isEqualTo(1);
                for (String ms : List.of("connect_ms", "head_ms", "total_ms")) {
                    assertThat(n.get(ms).isNumber() || (ms.equals("connect_ms") && n.get(ms).isNull())).as(ms + " in " + line).isTrue();
                }
                assertThat(n.get("total_ms").asDouble()).isGreaterThanOrEqualTo(n.get("head_ms").asDouble());
                parsed.add(n);
            }
            JsonNode bytes = parsed.get(0);
            assertThat(bytes.get("method").asText()).isEqualTo("GET");
            assertThat(bytes.get("path").asText()).isEqualTo("/bytes");
            assertThat(bytes.get("status").asInt()).isEqualTo(200);
            assertThat(bytes.get("bytes_out").asLong()).isEqualTo(1000);
            JsonNode posted = parsed.get(1);
            assertThat(posted.get("method").asText()).isEqualTo("POST");
            assertThat(posted.get("status").asInt()).isEqualTo(204);
            assertThat(posted.get("bytes_in").asLong()).isEqualTo(300);
            assertThat(parsed.get(2).get("path").asText()).isEqualTo("/q%22uote/caf%C3%A9");
            assertThat(parsed.get(3).get("path").asText()).isEqualTo("/raw/\"q\"/b\\s/café/日");
            assertThat(lines.get(3)).contains("\"path\":\"/raw/\\\"q\\\"/b\\\\s/caf\\u00e9/\\u65e5\"");
        }
    }

    @Test
    void aFailedRequestsLineNamesItsError() throws Exception {
        Path file = dir.resolve("errors.json");
        String kdl = RiverHarness.proxyConfig(1, "", "127.0.0.1:" + river.testsupport.Ports.free())
                .replace("system {\n", "system {\n  access-log \"" + file + "\" format=\"json\"\n");
        try (RiverHarness river = RiverHarness.start(kdl)) {
            assertThat(get(river.port("proxy"), "/x").statusCode()).isEqualTo(502);
            JsonNode n = JSON.readTree(awaitLines(file, 1).get(0));
            assertThat(n.get("status").asInt()).isEqualTo(502);
            assertThat(n.get("error").asText()).isEqualTo("connect_failed");
            assertThat(n.get("connect_ms").isNull()).isTrue();
        }
    }

    @Test
    void textLinesKeepTheKeyValueFieldsAfterATimestamp() throws Exception {
        Path file = dir.resolve("access.log");
        try (RiverHarness river = RiverHarness.start(config("access-log \"" + file + "\""))) {
            int port = river.port("proxy");
            assertThat(get(port, "/bytes?n=10").statusCode()).isEqualTo(200);
            String line = awaitLines(file, 1).get(0);
            assertThat(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z service=proxy client=127\\.0\\.0\\.1 method=GET path=/bytes "
                    + "status=200 bytes_in=0 bytes_out=10 upstream=" + java.util.regex.Pattern.quote(origin.address())
                    + " reused=(true|false) attempts=1 connect_ms=(\\d+\\.\\d{3}|-) head_ms=\\d+\\.\\d{3} total_ms=\\d+\\.\\d{3}");
        }
    }

    @Test
    void aSmallMaxSizeRotatesTheFileAndLosesNoLine() throws Exception {
        Path file = dir.resolve("rotated.json");
        try (RiverHarness river = RiverHarness.start(config("access-log \"" + file + "\" format=\"json\" max-size=\"1KB\" max-history=3"))) {
            int port = river.port("proxy");
            int n = 60;
            for (int i = 0; i < n; i++) {
                assertThat(get(port, "/bytes?n=1&i=" + i).statusCode()).isEqualTo(200);
            }
            List<String> lines = awaitLines(file, n);
            try (Stream<Path> s = Files.list(dir)) {
                assertThat(s.filter(p -> p.getFileName().toString().startsWith("rotated.json.")).count()).isGreaterThanOrEqualTo(3);
            }
            for (String line : lines) {
                assertThat(JSON.readTree(line).get("path").asText()).isEqualTo("/bytes");
            }
        }
    }

    @Test
    void aStuckDestinationCostsLinesNeverRequests() throws Exception {
        PrintStream realOut = System.out;
        StuckOutputStream stuck = new StuckOutputStream();
        int queue = 50;
        RiverHarness river = null;
        System.setOut(new PrintStream(stuck, false));
        try {
            river = RiverHarness.start(config("access-log \"stdout\" format=\"json\" queue=" + queue));
            int port = river.port("proxy");
            var writer = river.server().accessLog();
            long droppedBefore = AccessLog.dropped();
            assertThat(get(port, "/bytes?n=1").statusCode()).isEqualTo(200);
            assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds that line and is stuck
            int capacity = writer.capacity();
            assertThat(capacity).isEqualTo(64); // 50 rounded up to a power of two
            int more = 200;
            for (int i = 0; i < more; i++) {
                assertThat(get(port, "/bytes?n=1").statusCode()).isEqualTo(200); // every request is answered
            }
            // A request's line is offered as its exchange ends, which may be just after the client has the answer.
            Eventually.await(() -> writer.dropped() >= more - capacity, 10_000);
            assertThat(writer.dropped()).isEqualTo(more - capacity);
            assertThat(AccessLog.dropped() - droppedBefore).isEqualTo(more - capacity);
            stuck.release.countDown();
            Eventually.await(() -> stuck.lines() == 1 + capacity, 10_000);
            assertThat(writer.written()).isEqualTo(1 + capacity);
            assertThat(writer.dropped()).isEqualTo(more - capacity);
        } finally {
            stuck.release.countDown();
            if (river != null) {
                river.close();
            }
            System.setOut(realOut);
        }
    }
}
