package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * proxy-wasm bodies and the response phase (src/test/resources/wasm/bodies.wat), through the real
 * River in front of a real origin: a request body buffered and rewritten (the origin sees the new
 * body and its length), one over the bound (413), a request and a response body streamed piece by
 * piece, a response paused for a call-out, a response replaced from the response headers callback,
 * and trailers read and added both ways (chunked HTTP/1.1).
 */
class WasmBodyTest {
    static Path dir;
    static TestOrigin origin;
    static TestOrigin authOrigin;
    static RiverHarness river;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm-bodies");
        Path bodies = Wat.compile("bodies", dir);
        origin = new TestOrigin();
        authOrigin = new TestOrigin();
        log = LogCapture.of("river.modules.wasm");
        String auth = " {\n        upstream \"auth\" \"" + authOrigin.address() + "\"\n      }";
        StringBuilder kdl = new StringBuilder("system {\n  threads-per-service 2\n}\nservices {\n");
        kdl.append(service("rewrite", "wasm \"rewrite\" path=\"" + bodies + "\" config=\"rb\""));
        kdl.append(service("rewrite-small", "wasm \"rewrite-small\" path=\"" + bodies + "\" config=\"rb\" max-body-bytes=1024"));
        kdl.append(service("stream-request", "wasm \"stream-request\" path=\"" + bodies + "\" config=\"rs\""));
        kdl.append(service("stream-response", "wasm \"stream-response\" path=\"" + bodies + "\" config=\"ps\" max-body-bytes=65536"));
        kdl.append(service("pause-response", "wasm \"pause-response\" path=\"" + bodies + "\" config=\"pc\"" + auth));
        kdl.append(service("local-response", "wasm \"local-response\" path=\"" + bodies + "\" config=\"lr\""));
        kdl.append(service("trailers", "wasm \"trailers\" path=\"" + bodies + "\" config=\"tr\""));
        river = RiverHarness.start(kdl.append("}\n").toString());
    }

    private static String service(String name, String plugin) {
        return Wat.pluginService(name, origin.address(), plugin);
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(river, origin, authOrigin, log);
    }

    private static RawHttp.Response post(String service, byte[] body) throws Exception {
        try (RawHttp c = new RawHttp(river.port(service))) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(body);
            return c.read();
        }
    }

    @Test
    void aBufferedRequestBodyIsRewrittenAndTheOriginSeesItsNewLength() throws Exception {
        for (int size : new int[] {11, 300_000}) {
            byte[] body = new byte[size];
            for (int i = 0; i < size; i++) {
                body[i] = (byte) ('a' + i % 26);
            }
            RawHttp.Response r = post("rewrite", body);
            assertThat(r.status()).as("%d bytes", size).isEqualTo(200);
            byte[] prefix = "rewritten-by-wasm:".getBytes(StandardCharsets.US_ASCII);
            byte[] expected = new byte[prefix.length + size];
            System.arraycopy(prefix, 0, expected, 0, prefix.length);
            System.arraycopy(body, 0, expected, prefix.length, size);
            TestOrigin.Seen seen = origin.lastSeen();
            assertThat(seen.bodyLength()).isEqualTo(expected.length);
            assertThat(seen.bodySha256()).isEqualTo(TestOrigin.sha256(expected));
            assertThat(seen.headers().get("content-length")).as("the head announces the rewritten length").isEqualTo(Integer.toString(expected.length));
            assertThat(seen.headers().contains("transfer-encoding")).isFalse();
        }
    }

    @Test
    void aBufferedRequestBodyOverTheBoundIsRefusedWith413AndNeverForwarded() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = post("rewrite-small", new byte[4096]);
        assertThat(r.status()).isEqualTo(413);
        assertThat(origin.requestsReceived()).isEqualTo(before);
        assertThat(post("rewrite-small", "small".getBytes(StandardCharsets.US_ASCII)).status()).as("a body within the bound passes").isEqualTo(200);
    }

    @Test
    void aStreamedRequestBodyReachesThePluginPieceByPieceAsItArrives() throws Exception {
        int firstPieces = log.count("request body piece, end of stream: 0");
        int ends = log.count("request body piece, end of stream: 1");
        try (RawHttp c = new RawHttp(river.port("stream-request"))) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst-\r\n");
            // The plugin has the first piece before the client sends the rest: River does not buffer it.
            log.await("request body piece, end of stream: 0", firstPieces + 1);
            c.send("6\r\nsecond\r\n0\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
        }
        log.await("request body piece, end of stream: 1", ends + 1);
        TestOrigin.Seen seen = origin.lastSeen();
        assertThat(seen.bodySha256()).as("each piece upper-cased").isEqualTo(TestOrigin.sha256("FIRST-SECOND".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aResponseBodyBiggerThanTheBoundIsStreamedPieceByPieceAndModified() throws Exception {
        int pieces = log.count("response body piece, end of stream: 0");
        int n = 1_000_000; // fifteen times the plugin's max-body-bytes: only streaming passes it whole
        RawHttp.Response r = river.get("stream-response", "/bytes?n=" + n, "");
        assertThat(r.status()).isEqualTo(200);
        byte[] expected = new byte[n];
        for (int i = 0; i < n; i++) {
            byte b = TestOrigin.pattern(i);
            expected[i] = b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
        }
        assertThat(r.body().length).isEqualTo(n);
        assertThat(TestOrigin.sha256(r.body())).isEqualTo(TestOrigin.sha256(expected));
        log.await("response body piece, end of stream: 1");
        assertThat(log.count("response body piece, end of stream: 0") - pieces).as("pieces given before the end").isGreaterThan(1);
    }

    @Test
    void theResponseHeadersPauseForACallOutAndResumeOrAreReplacedOnItsAnswer() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response allowed = river.get("pause-response", "/echo", "x-token: t\r\n");
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.headers()).as("set by the call-out's callback while paused").containsEntry("x-checked", "yes");
        assertThat(allowed.text()).startsWith("GET /echo");
        assertThat(authOrigin.lastSeen().uri()).isEqualTo("/status?code=200");
        RawHttp.Response denied = river.get("pause-response", "/echo", "");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.text()).isEqualTo("denied after the response\n");
        assertThat(authOrigin.lastSeen().uri()).isEqualTo("/status?code=403");
        assertThat(origin.requestsReceived()).as("both went to the origin first").isEqualTo(before + 2);
    }

    @Test
    void aLocalResponseFromTheResponseHeadersReplacesTheResponse() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = river.get("local-response", "/echo", "");
        assertThat(r.status()).isEqualTo(418);
        assertThat(r.text()).isEqualTo("replaced by wasm\n");
        assertThat(r.headers()).containsEntry("x-replaced", "yes").doesNotContainKey("x-origin");
        assertThat(origin.requestsReceived()).isEqualTo(before + 1);
    }

    @Test
    void trailersAreReadAndAddedBothWays() throws Exception {
        try (RawHttp c = new RawHttp(river.port("trailers"))) {
            c.send("POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n"
                    + "4\r\nbody\r\n0\r\nx-checksum: c0ffee\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("with trailers\n");
            // The origin echoes the request's trailers: the plugin's proxy_on_request_trailers added x-wasm-saw.
            assertThat(r.trailers()).containsEntry("x-checksum", "c0ffee").containsEntry("x-wasm-saw", "c0ffee")
                    .containsEntry("x-origin-trailer", "yes")
                    .as("added by proxy_on_response_trailers").containsEntry("x-wasm-trailer", "added");
        }
        assertThat(origin.lastSeen().bodySha256()).isEqualTo(TestOrigin.sha256("body".getBytes(StandardCharsets.US_ASCII)));
    }
}
