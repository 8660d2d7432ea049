package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/** HTTP/2 to connectors: streams multiplexed over shared connections, ALPN choice, stream limits. */
class Http2UpstreamTest {
    /** The origin lets each HTTP/2 connection carry this many streams at once. */
    static final int ORIGIN_STREAM_LIMIT = 5;

    @TempDir
    static Path dir;
    static TestOrigin h2Origin;
    static TestOrigin h1Origin;
    static RiverHarness river;
    static HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        TestPki.Pair certificate = TestPki.server("origin.test");
        h2Origin = TestOrigin.http2(certificate.cert().toFile(), certificate.key().toFile(), ORIGIN_STREAM_LIMIT);
        h1Origin = new TestOrigin(certificate.serverContext());
        String tls = "tls-sni=\"origin.test\" ca-path=\"" + TestPki.caCertificate() + "\"";
        river = RiverHarness.start("""
                system {
                    threads-per-service 2
                }
                services {
                    h2only {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s" %3$s proto="h2-only"
                        }
                    }
                    either {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%2$s" %3$s proto="h2-or-h1"
                        }
                    }
                    h2only-to-h1 {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%2$s" %3$s proto="h2-only"
                        }
                    }
                }
                """.formatted(h2Origin.address(), h1Origin.address(), tls), dir);
    }

    @AfterAll
    static void stop() {
        river.close();
        h2Origin.close();
        h1Origin.close();
    }

    private static URI uri(String service, String path) {
        return URI.create("http://127.0.0.1:" + river.port(service) + path);
    }

    @Test
    void requestsTravelAsStreamsOfOneSharedConnection() throws Exception {
        int connectionsBefore = h2Origin.http2ConnectionsAccepted();
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("h2only", "/echo/" + i)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /echo/" + i + "\n").contains("x-forwarded-for: 127.0.0.1");
            assertThat(r.headers().map().keySet()).noneMatch(name -> name.startsWith("x-http2"));
        }
        // Sequential requests from two event loops: one shared connection, opened at most once here.
        assertThat(h2Origin.http2ConnectionsAccepted() - connectionsBefore).isLessThanOrEqualTo(1);
        assertThat(river.service("h2only").pool().http2Connections()).isEqualTo(1);
    }

    @Test
    void anotherConnectionOpensOnlyWhenThePeersStreamLimitIsReached() throws Exception {
        int concurrent = 20;
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < concurrent; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(uri("h2only", "/held")).build(), HttpResponse.BodyHandlers.ofString()));
        }
        // All twenty are open at the origin at once (it holds them): more than one connection's streams.
        Eventually.await(() -> h2Origin.heldRequests() == concurrent, 30_000);
        h2Origin.releaseHeld();
        for (var call : calls) {
            assertThat(call.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(h2Origin.mostConcurrentStreams()).isGreaterThan(ORIGIN_STREAM_LIMIT);
        int connections = river.service("h2only").pool().http2Connections();
        assertThat(connections).isBetween(concurrent / ORIGIN_STREAM_LIMIT, concurrent / ORIGIN_STREAM_LIMIT + 2);
    }

    @Test
    void bodiesStreamBothWaysOverHttp2() throws Exception {
        byte[] upload = new byte[3_000_000];
        for (int i = 0; i < upload.length; i++) {
            upload[i] = TestOrigin.pattern(i * 7L);
        }
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("h2only", "/echo/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.body()).contains("POST /echo/upload", "body-length: 3000000", "body-sha256: " + TestOrigin.sha256(upload));
        HttpResponse<byte[]> download = client.send(HttpRequest.newBuilder(uri("h2only", "/bytes?n=5000000&chunked=1")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.body()).hasSize(5_000_000);
        for (int i = 0; i < download.body().length; i += 4099) {
            assertThat(download.body()[i]).isEqualTo(TestOrigin.pattern(i));
        }
    }

    @Test
    void h2OrH1SpeaksHttp11ToAnOriginThatOnlyOffersIt() throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("either", "/echo/alpn")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /echo/alpn");
        }
        assertThat(river.service("either").pool().http2Connections()).isZero();
    }

    @Test
    void h2OnlyRefusesAnOriginThatDoesNotSpeakHttp2() throws Exception {
        int before = h1Origin.requestsReceived();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("h2only-to-h1", "/echo")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(h1Origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void aStreamTheOriginRefusesIsSentAgain() throws Exception {
        int before = h2Origin.requestsReceived();
        h2Origin.refuseStreams.set(1);
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("h2only", "/echo/refused")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("GET /echo/refused");
        assertThat(h2Origin.requestsReceived()).isEqualTo(before + 1);
        assertThat(h2Origin.refuseStreams.get()).as("the refusal happened").isZero();
    }
}
