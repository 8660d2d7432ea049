package river.observe;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.proxy.ProxyModule;

/**
 * The process's OpenTelemetry traces: one tracer provider, built once from {@code system { tracing }}
 * and kept across reloads that leave that block unchanged. Spans end on the event loops and go into
 * a bounded queue (full: the span is dropped and counted by the SDK, the event loop never waits); the
 * batch processor's own thread exports them over OTLP/HTTP (protobuf) or OTLP/gRPC, through the
 * exporter's default sender (OkHttp). Sampling is
 * {@code ParentBased(TraceIdRatioBased(ratio))}: a client's sampled flag is followed, new traces are
 * recorded at the configured ratio, and an unsampled request still carries a {@code traceparent}
 * upstream (flag 00). Only built when tracing is on: off, nothing here exists.
 */
public final class Tracing implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
    /** Spans waiting for export; beyond it new spans are dropped rather than held. */
    static final int MAX_QUEUE = 2048;
    static final int MAX_BATCH = 512;
    /** How long ending the provider may take at shutdown (the last batch is flushed). */
    private static final long SHUTDOWN_SECONDS = 5;

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final TextMapPropagator propagator = W3CTraceContextPropagator.getInstance();
    private final Clock clock = Clock.getDefault();
    private final URI endpoint;

    private Tracing(SdkTracerProvider provider, URI endpoint) {
        this.provider = provider;
        this.tracer = provider.get("river");
        this.endpoint = endpoint;
    }

    /**
     * Starts tracing: spans of {@code serviceName} sampled at {@code samplingRatio} and exported to
     * {@code endpoint} (an OTLP/HTTP traces URL) at most {@code exportDelayMs} after they end.
     */
    public static Tracing start(URI endpoint, boolean grpc, double samplingRatio, String serviceName, long exportDelayMs) {
        SpanExporter exporter = grpc
                ? OtlpGrpcSpanExporter.builder()
                        .setEndpoint(endpoint.toString())
                        .setTimeout(Duration.ofSeconds(10))
                        .build()
                : OtlpHttpSpanExporter.builder()
                        .setEndpoint(endpoint.toString())
                        .setTimeout(Duration.ofSeconds(10))
                        .build();
        BatchSpanProcessor batches = BatchSpanProcessor.builder(exporter)
                .setMaxQueueSize(MAX_QUEUE)
                .setMaxExportBatchSize(MAX_BATCH)
                .setScheduleDelay(Duration.ofMillis(exportDelayMs))
                .build();
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), serviceName))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(samplingRatio)))
                .addSpanProcessor(batches)
                .build();
        LOG.info("tracing on: spans of {} sampled at {} exported to {} (OTLP/{})", serviceName, samplingRatio, endpoint, grpc ? "gRPC" : "HTTP");
        return new Tracing(provider, endpoint);
    }

    /**
     * The module that traces a service's requests; one per service, all sharing this provider.
     *
     * @param routePaths the service's configured route paths by index (empty for a service without routes)
     */
    public ProxyModule module(java.util.List<String> routePaths) {
        return new TracingModule(this, routePaths);
    }

    Tracer tracer() {
        return tracer;
    }

    TextMapPropagator propagator() {
        return propagator;
    }

    /** Now, in nanoseconds since the epoch, as span timestamps are given. */
    long epochNanos() {
        return clock.now();
    }

    /** Exports what is queued, then stops; waits at most a few seconds for the collector. */
    @Override
    public void close() {
        provider.shutdown().join(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        LOG.info("tracing to {} stopped", endpoint);
    }

    @Override
    public String toString() {
        return "tracing to " + endpoint;
    }
}
