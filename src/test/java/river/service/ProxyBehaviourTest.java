package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** HTTP semantics through the real River, with a real origin and real clients. */
class ProxyBehaviourTest {
    static TestOrigin origin;
    static RiverHarness river;
    static int port;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        river = RiverHarness.start(RiverHarness.proxyConfig(2, """
                    path-control {
                        upstream-request {
                            filter kind="remove-header-key-regex" pattern=".*(secret|SECRET).*"
                            filter kind="upsert-header" key="x-proxy-friend" value="river"
                        }
                        upstream-response {
                            filter kind="remove-header-key-regex" pattern=".*ETag.*"
                            filter kind="upsert-header" key="x-with-love-from" value="river"
                        }
                    }
                """, origin.address()));
        port = river.port("proxy");
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    @Test
    void getIsProxiedWithForwardingHeadersAndHostKept() throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(uri("/echo?x=1")).header("X-Secret-Token", "hide me").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        TestOrigin.Seen seen = origin.lastSeen();
        assertThat(seen.uri()).isEqualTo("/echo?x=1");
        assertThat(seen.headers().get("host")).isEqualTo("127.0.0.1:" + port);
        assertThat(seen.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(seen.headers().get("x-forwarded-proto")).isEqualTo("http");
        assertThat(seen.headers().get("x-forwarded-host")).isEqualTo("127.0.0.1:" + port);
        assertThat(seen.headers().get("via")).isEqualTo("1.1 river");
        assertThat(seen.headers().get("x-proxy-friend")).isEqualTo("river");
        assertThat(seen.headers().contains("x-secret-token")).isFalse();
        assertThat(r.headers().firstValue("via")).hasValue("1.1 river");
        assertThat(r.headers().firstValue("x-with-love-from")).hasValue("river");
        assertThat(r.headers().firstValue("etag")).isEmpty();
        assertThat(r.headers().firstValue("x-origin")).hasValue("test");
    }

    @Test
    void hopByHopHeadersAndThoseNamedInConnectionNeverCross() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, x-drop-me\r\nX-Drop-Me: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers()).doesNotContainKey("x-origin-hop");
        }
        var headers = origin.lastSeen().headers();
        for (String name : new String[] {"x-drop-me", "keep-alive", "te", "proxy-connection", "upgrade"}) {
            assertThat(headers.contains(name)).as(name).isFalse();
        }
    }

    @Test
    void contentLengthAndChunkedBodiesArriveIntact() throws Exception {
        byte[] body = new byte[300_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = TestOrigin.pattern(i);
        }
        HttpResponse<String> fixed = CLIENT.send(HttpRequest.newBuilder(uri("/echo")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(fixed.body()).contains("body-length: 300000", "body-sha256: " + TestOrigin.sha256(body));
        assertThat(origin.lastSeen().headers().get("content-length")).isEqualTo("300000");

        HttpResponse<String> chunked = CLIENT.send(HttpRequest.newBuilder(uri("/echo"))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.body()).contains("body-length: 300000", "body-sha256: " + TestOrigin.sha256(body));
    }

    @Test
    void chunkedAndLengthResponsesStreamIntact() throws Exception {
        for (String q : new String[] {"/bytes?n=1000000", "/bytes?n=1000000&chunked=1"}) {
            HttpResponse<byte[]> r = CLIENT.send(HttpRequest.newBuilder(uri(q)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(1_000_000);
            for (int i = 0; i < r.body().length; i += 997) {
                assertThat(r.body()[i]).isEqualTo(TestOrigin.pattern(i));
            }
        }
    }

    @Test
    void headAndNoBodyStatusesHaveNoBody() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("HEAD /bytes?n=5000 HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response head = raw.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.headers().get("content-length")).isEqualTo("5000");
            raw.send("GET /status?code=204 HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response noContent = raw.read();
            assertThat(noContent.status()).isEqualTo(204);
            assertThat(noContent.headers()).doesNotContainKey("transfer-encoding");
            raw.send("GET /status?code=304 HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response notModified = raw.read();
            assertThat(notModified.status()).isEqualTo(304);
            // The same connection still works: no stray body bytes were sent.
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
        }
    }

    @Test
    void http10ClientGetsAnHttp10CompatibleResponse() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /bytes?n=3000&chunked=1 HTTP/1.0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers()).doesNotContainKey("transfer-encoding");
            assertThat(r.body()).hasSize(3000);
            assertThat(raw.closedByPeer()).isTrue();
        }
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.headers().get("connection")).isEqualToIgnoringCase("keep-alive");
            raw.send("GET /echo HTTP/1.0\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                String path = i % 3 == 0 ? "/slow?ms=20&i=" + i : "/echo?i=" + i;
                burst.append("GET ").append(path).append(" HTTP/1.1\r\nHost: h\r\n\r\n");
            }
            burst.append("POST /echo?i=20 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
            raw.send(burst.toString());
            for (int i = 0; i <= 20; i++) {
                RawHttp.Response r = raw.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).containsPattern("(?s)^(GET|POST) /\\w+\\?(ms=20&)?i=" + i + "\n");
            }
            assertThat(origin.lastSeen().bodyLength()).isEqualTo(5);
        }
    }

    @Test
    void expectContinueIsPassedThrough() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response interim = raw.read();
            assertThat(interim.status()).isEqualTo(100);
            raw.send("hello world");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).contains("body-length: 11");
        }
    }

    @Test
    void unknownExpectationGets417() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx");
            assertThat(raw.read().status()).isEqualTo(417);
        }
    }

    @Test
    void everyMethodIsProxied() throws Exception {
        for (String method : new String[] {"PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"}) {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(uri("/echo")).method(method,
                    HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith(method + " /echo");
        }
    }

    @Test
    void responseBodyTextSurvivesUnchanged() throws Exception {
        HttpResponse<byte[]> r = CLIENT.send(HttpRequest.newBuilder(uri("/echo/\u00e9t\u00e9".replace("\u00e9", "%C3%A9")))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).startsWith("GET /echo/%C3%A9t%C3%A9");
    }
}
