package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import org.junit.jupiter.api.Test;
import river.testsupport.OtlpReceiver;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Tracing at ratio 0 (nothing exported, context still propagated), tracing off (River adds nothing),
 * reloads, and export over OTLP/gRPC to grpc-java's server.
 */
class TracingSamplingTest {
    static final String CLIENT_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static String proxy(String system, TestOrigin origin) {
        return system + """
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address());
    }

    static void get(RiverHarness river, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + river.port("proxy") + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        assertThat(CLIENT.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    }

    static String seen(TestOrigin origin, String path) {
        return origin.seen().stream().filter(s -> s.uri().equals(path)).findFirst().orElseThrow().headers().get("traceparent");
    }

    @Test
    void atRatioZeroNothingIsExportedButTheTraceparentStillGoesUpstreamUnsampled() throws Exception {
        try (TestOrigin origin = new TestOrigin(); OtlpReceiver receiver = new OtlpReceiver()) {
            RiverHarness river = RiverHarness.start(proxy("system {\n tracing {\n enabled true\n endpoint \"" + receiver.endpoint()
                    + "\"\n sampling-ratio 0\n }\n}\n", origin));
            try {
                assertThat(river.server().tracing()).isNotNull();
                get(river, "/echo/unsampled");
            } finally {
                river.close(); // flushes every span still queued: after it, what was not received was never exported
            }
            // Flags: the sampled bit (01) clear; W3C level 2's random-trace-id bit (02) may be set.
            assertThat(seen(origin, "/echo/unsampled")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]");
            assertThat(receiver.spans()).isEmpty();
        }
    }

    @Test
    void whenOffNoModuleIsInstalledAndTheClientsTraceparentPassesUnchanged() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(proxy("", origin))) {
            assertThat(river.server().tracing()).isNull();
            get(river, "/echo/off-with", "traceparent", CLIENT_TRACEPARENT);
            get(river, "/echo/off-without");
            assertThat(seen(origin, "/echo/off-with")).isEqualTo(CLIENT_TRACEPARENT);
            assertThat(seen(origin, "/echo/off-without")).isNull();
        }
    }

    @Test
    void aReloadKeepsTracingWhenItsBlockIsUnchangedAndStopsItWhenTurnedOff() throws Exception {
        try (TestOrigin origin = new TestOrigin(); OtlpReceiver receiver = new OtlpReceiver()) {
            String on = proxy("system {\n tracing {\n enabled true\n endpoint \"" + receiver.endpoint() + "\"\n }\n}\n", origin);
            try (RiverHarness river = RiverHarness.start(on)) {
                river.observe.Tracing first = river.server().tracing();
                assertThat(first).isNotNull();
                assertThat(river.server().reload(parse(on)).ok()).isTrue();
                assertThat(river.server().tracing()).as("the same block: the same provider").isSameAs(first);
                String ratioChanged = on.replace("enabled true", "enabled true\n sampling-ratio 0.5");
                assertThat(river.server().reload(parse(ratioChanged)).ok()).isTrue();
                assertThat(river.server().tracing()).isNotNull().isNotSameAs(first);
                assertThat(river.server().reload(parse(proxy("", origin))).ok()).isTrue();
                assertThat(river.server().tracing()).isNull();
                get(river, "/echo/after-off");
                assertThat(seen(origin, "/echo/after-off")).isNull();
            }
        }
    }

    static river.config.RiverConfig parse(String kdl) throws river.config.ConfigException {
        return new river.config.ConfigLoader(java.nio.file.Path.of("")).parse(kdl, "test.kdl", river.config.ConfigFormat.KDL,
                river.config.SystemOverrides.none());
    }

    @Test
    void spansAreExportedOverGrpcToo() throws Exception {
        try (TestOrigin origin = new TestOrigin(); OtlpReceiver receiver = OtlpReceiver.grpc();
                RiverHarness river = RiverHarness.start(proxy("system {\n tracing {\n enabled true\n protocol \"grpc\"\n endpoint \""
                        + receiver.endpoint() + "\"\n }\n}\n", origin))) {
            get(river, "/echo/grpc-export");
            String[] tp = seen(origin, "/echo/grpc-export").split("-");
            List<OtlpReceiver.Received> spans = receiver.await(r -> r.traceId().equals(tp[1]), 2, 15_000);
            OtlpReceiver.Received server = spans.stream().filter(r -> r.kind() == Span.SpanKind.SPAN_KIND_SERVER).findFirst().orElseThrow();
            OtlpReceiver.Received client = spans.stream().filter(r -> r.kind() == Span.SpanKind.SPAN_KIND_CLIENT).findFirst().orElseThrow();
            assertThat(client.parentSpanId()).isEqualTo(server.spanId());
            assertThat(tp[2]).isEqualTo(client.spanId());
            assertThat(server.resourceAttribute("service.name")).isEqualTo("river");
        }
    }

    @Test
    void shuttingDownExportsWhatIsStillQueued() throws Exception {
        try (TestOrigin origin = new TestOrigin(); OtlpReceiver receiver = new OtlpReceiver()) {
            System.setProperty("river.tracing.exportDelayMs", "600000"); // no scheduled export during the test
            RiverHarness river;
            try {
                river = RiverHarness.start(proxy("system {\n tracing {\n enabled true\n endpoint \"" + receiver.endpoint() + "\"\n }\n}\n", origin));
            } finally {
                System.clearProperty("river.tracing.exportDelayMs");
            }
            try {
                get(river, "/echo/flushed");
                assertThat(receiver.spans()).isEmpty();
            } finally {
                river.close();
            }
            String trace = seen(origin, "/echo/flushed").split("-")[1];
            assertThat(receiver.spans()).filteredOn(r -> r.traceId().equals(trace)).hasSize(2);
        }
    }
}
