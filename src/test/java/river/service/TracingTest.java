package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.net.URI;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.OtlpReceiver;
import river.testsupport.OtlpReceiver.Received;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * Traces through the real network path: a client (Java's HttpClient, curl for HTTP/2), River with
 * tracing on exporting over OTLP/HTTP to a receiver in the test, and an origin that records the
 * {@code traceparent} it was sent.
 */
class TracingTest {
    static final long WAIT_MS = 15_000;
    static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String CLIENT_SPAN = "00f067aa0ba902b7";

    @TempDir
    static Path dir;
    static TestOrigin origin;
    /** An HTTP/2 origin over TLS, which can refuse streams. */
    static TestOrigin h2Origin;
    static OtlpReceiver receiver;
    static RiverHarness river;
    static int deadPort;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        TestPki.Pair certificate = TestPki.server("origin.test");
        h2Origin = TestOrigin.http2(certificate.cert().toFile(), certificate.key().toFile(), 10);
        receiver = new OtlpReceiver();
        deadPort = Ports.free();
        river = RiverHarness.start(config(receiver.endpoint(), "1.0"), dir);
    }

    @AfterAll
    static void stop() {
        if (river != null) {
            river.close();
        }
        receiver.close();
        origin.close();
        h2Origin.close();
    }

    static String config(URI endpoint, String ratio) throws Exception {
        return """
                system {
                    tracing {
                        enabled true
                        endpoint "%s"
                        sampling-ratio %s
                        service-name "river-test"
                    }
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%s"
                        }
                    }
                    routed {
                        listeners {
                            "127.0.0.1:0"
                        }
                        routes {
                            route "/api" {
                                connectors {
                                    "%s"
                                }
                            }
                        }
                    }
                    retrying {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "127.0.0.1:%d"
                            "%s"
                        }
                    }
                    dead {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "127.0.0.1:%d"
                        }
                    }
                    h2up {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s" tls-sni="origin.test" ca-path="%s" proto="h2-only"
                        }
                    }
                }
                """.formatted(endpoint, ratio, origin.address(), origin.address(), deadPort, origin.address(), deadPort, h2Origin.address(),
                TestPki.caCertificate());
    }

    static HttpResponse<String> get(String service, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + river.port(service) + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The traceparent the origin was sent with the request to {@code path}: {version, trace id, span id, flags}. */
    static String[] originTraceparent(String path) {
        return originTraceparent(origin, path);
    }

    static String[] originTraceparent(TestOrigin origin, String path) {
        String tp = origin.seen().stream().filter(s -> s.uri().equals(path)).reduce((a, b) -> b).orElseThrow().headers().get("traceparent");
        assertThat(tp).as("traceparent at the origin").isNotNull().matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]");
        return tp.split("-");
    }

    /** Every span of a trace, once its SERVER span (the last to end) has arrived; CLIENT spans in start order. */
    static List<Received> trace(String traceId) throws InterruptedException {
        receiver.await(r -> r.traceId().equals(traceId) && r.kind() == SpanKind.SPAN_KIND_SERVER, 1, WAIT_MS);
        return receiver.spans().stream().filter(r -> r.traceId().equals(traceId))
                .sorted(Comparator.comparingLong(r -> r.span().getStartTimeUnixNano())).toList();
    }

    static Received only(List<Received> spans, SpanKind kind) {
        List<Received> of = spans.stream().filter(r -> r.kind() == kind).toList();
        assertThat(of).as("%s spans", kind).hasSize(1);
        return of.get(0);
    }

    @Test
    void aRequestWithoutTraceContextStartsATraceWithAServerAndAClientSpan() throws Exception {
        assertThat(get("proxy", "/echo/new-trace", "User-Agent", "tracing-test/1").statusCode()).isEqualTo(200);
        String[] tp = originTraceparent("/echo/new-trace");
        List<Received> spans = trace(tp[1]);
        assertThat(spans).hasSize(2);
        Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
        Received client = only(spans, SpanKind.SPAN_KIND_CLIENT);
        assertThat(server.parentSpanId()).as("a new trace: the SERVER span is its root").isEmpty();
        assertThat(client.parentSpanId()).isEqualTo(server.spanId());
        assertThat(tp[2]).as("the origin's parent is the CLIENT span").isEqualTo(client.spanId());
        assertThat(Integer.parseInt(tp[3], 16) & 1).as("sampled flag").isEqualTo(1);

        assertThat(server.span().getName()).isEqualTo("GET proxy");
        assertThat(server.attribute("http.request.method")).isEqualTo("GET");
        assertThat(server.attribute("url.path")).isEqualTo("/echo/new-trace");
        assertThat(server.attribute("url.scheme")).isEqualTo("http");
        assertThat(server.attribute("server.address")).isEqualTo("127.0.0.1");
        assertThat(server.attribute("server.port")).isEqualTo(Integer.toString(river.port("proxy")));
        assertThat(server.attribute("client.address")).isEqualTo("127.0.0.1");
        assertThat(server.attribute("network.protocol.version")).isEqualTo("1.1");
        assertThat(server.attribute("user_agent.original")).isEqualTo("tracing-test/1");
        assertThat(server.attribute("http.response.status_code")).isEqualTo("200");
        assertThat(server.attribute("error.type")).isNull();
        assertThat(server.resourceAttribute("service.name")).isEqualTo("river-test");
        assertThat(server.span().getStartTimeUnixNano()).isLessThanOrEqualTo(client.span().getStartTimeUnixNano());
        assertThat(server.span().getEndTimeUnixNano()).isGreaterThanOrEqualTo(client.span().getEndTimeUnixNano());

        assertThat(client.span().getName()).isEqualTo("GET");
        assertThat(client.attribute("http.request.method")).isEqualTo("GET");
        assertThat(client.attribute("server.address")).isEqualTo("127.0.0.1");
        assertThat(client.attribute("server.port")).isEqualTo(Integer.toString(origin.port()));
        assertThat(client.attribute("http.response.status_code")).isEqualTo("200");
        assertThat(client.attribute("http.request.resend_count")).isNull();
    }

    @Test
    void theClientsTraceContextIsContinuedAndTheOriginSeesRiversClientSpan() throws Exception {
        String sent = "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01";
        get("proxy", "/echo/continued", "traceparent", sent, "tracestate", "vendor=abc");
        String[] tp = originTraceparent("/echo/continued");
        assertThat(tp[1]).isEqualTo(CLIENT_TRACE);
        List<Received> spans = trace(CLIENT_TRACE);
        Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
        Received client = only(spans, SpanKind.SPAN_KIND_CLIENT);
        assertThat(server.parentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(client.parentSpanId()).isEqualTo(server.spanId());
        assertThat(tp[2]).as("replaced, not the client's span").isEqualTo(client.spanId()).isNotEqualTo(CLIENT_SPAN);
        assertThat(origin.seen().stream().filter(s -> s.uri().equals("/echo/continued")).findFirst().orElseThrow().headers().get("tracestate"))
                .isEqualTo("vendor=abc");
    }

    @Test
    void anInvalidTraceparentIsIgnoredAndANewTraceStarts() throws Exception {
        get("proxy", "/echo/invalid", "traceparent", "00-" + "0".repeat(32) + "-" + CLIENT_SPAN + "-01");
        String[] tp = originTraceparent("/echo/invalid");
        assertThat(tp[1]).isNotEqualTo("0".repeat(32));
        Received server = only(trace(tp[1]), SpanKind.SPAN_KIND_SERVER);
        assertThat(server.parentSpanId()).isEmpty();
    }

    @Test
    void http2RequestsAreTracedToo() throws Exception {
        String sent = "00-" + "1".repeat(32) + "-" + CLIENT_SPAN + "-01";
        Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_version}", "--http2-prior-knowledge", "-H", "traceparent: " + sent,
                "http://127.0.0.1:" + river.port("proxy") + "/echo/h2").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo("2");
        String[] tp = originTraceparent("/echo/h2");
        assertThat(tp[1]).isEqualTo("1".repeat(32));
        List<Received> spans = trace(tp[1]);
        Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
        Received client = only(spans, SpanKind.SPAN_KIND_CLIENT);
        assertThat(server.attribute("network.protocol.version")).isEqualTo("2");
        assertThat(server.parentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(client.parentSpanId()).isEqualTo(server.spanId());
        assertThat(tp[2]).isEqualTo(client.spanId());
    }

    @Test
    void aRoutedRequestIsNamedByItsConfiguredRouteNotItsPath() throws Exception {
        get("routed", "/api/users/12345");
        String[] tp = originTraceparent("/api/users/12345");
        Received server = only(trace(tp[1]), SpanKind.SPAN_KIND_SERVER);
        assertThat(server.span().getName()).isEqualTo("GET /api");
        assertThat(server.attribute("http.route")).isEqualTo("/api");
        assertThat(server.attribute("url.path")).isEqualTo("/api/users/12345");
    }

    @Test
    void aRetryAfterAConnectFailureIsASecondClientSpan() throws Exception {
        // Round robin over a dead and a live connector: of two requests, one tries the dead one first.
        for (int i = 0; i < 2; i++) {
            String path = "/echo/retry-" + i;
            assertThat(get("retrying", path).statusCode()).isEqualTo(200);
            String[] tp = originTraceparent(path);
            List<Received> spans = trace(tp[1]);
            List<Received> attempts = spans.stream().filter(r -> r.kind() == SpanKind.SPAN_KIND_CLIENT).toList();
            if (attempts.size() == 1) {
                continue;
            }
            Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
            assertThat(attempts).hasSize(2);
            Received failed = attempts.get(0);
            Received retried = attempts.get(1);
            assertThat(failed.parentSpanId()).isEqualTo(server.spanId());
            assertThat(retried.parentSpanId()).isEqualTo(server.spanId());
            assertThat(failed.attribute("error.type")).isEqualTo("connect_failed");
            assertThat(failed.attribute("server.port")).isEqualTo(Integer.toString(deadPort));
            assertThat(failed.attribute("http.request.resend_count")).isNull();
            assertThat(retried.attribute("http.request.resend_count")).isEqualTo("1");
            assertThat(retried.attribute("server.port")).isEqualTo(Integer.toString(origin.port()));
            assertThat(retried.attribute("http.response.status_code")).isEqualTo("200");
            assertThat(tp[2]).as("the origin's parent is the attempt that reached it").isEqualTo(retried.spanId());
            return;
        }
        throw new AssertionError("no request was retried after a connect failure");
    }

    @Test
    void aFailedRequestCarriesItsErrorTypeOnBothSpans() throws Exception {
        String trace = "2".repeat(32);
        assertThat(get("dead", "/nothing-there", "traceparent", "00-" + trace + "-" + CLIENT_SPAN + "-01").statusCode()).isEqualTo(502);
        List<Received> spans = trace(trace);
        Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
        Received client = only(spans, SpanKind.SPAN_KIND_CLIENT);
        assertThat(server.attribute("http.response.status_code")).isEqualTo("502");
        assertThat(server.attribute("error.type")).isEqualTo("connect_failed");
        assertThat(server.span().getStatus().getCode()).isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(client.attribute("error.type")).isEqualTo("connect_failed");
        assertThat(client.attribute("server.port")).isEqualTo(Integer.toString(deadPort));
        assertThat(client.parentSpanId()).isEqualTo(server.spanId());
    }

    @Test
    void aStreamTheHttp2OriginRefusedIsRepeatedAsASecondClientSpan() throws Exception {
        h2Origin.refuseStreams.set(1);
        assertThat(get("h2up", "/echo/refused").statusCode()).isEqualTo(200);
        assertThat(h2Origin.refuseStreams.get()).as("the refusal happened").isZero();
        String[] tp = originTraceparent(h2Origin, "/echo/refused");
        List<Received> spans = trace(tp[1]);
        Received server = only(spans, SpanKind.SPAN_KIND_SERVER);
        List<Received> attempts = spans.stream().filter(r -> r.kind() == SpanKind.SPAN_KIND_CLIENT).toList();
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).attribute("error.type")).isEqualTo("upstream_closed");
        assertThat(attempts.get(1).attribute("http.request.resend_count")).isEqualTo("1");
        assertThat(attempts.get(1).attribute("http.response.status_code")).isEqualTo("200");
        assertThat(attempts).allSatisfy(a -> assertThat(a.parentSpanId()).isEqualTo(server.spanId()));
        assertThat(tp[2]).as("over HTTP/2 upstream, the repeat's own span").isEqualTo(attempts.get(1).spanId());
    }
}
