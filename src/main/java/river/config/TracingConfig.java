package river.config;

import java.net.URI;

/**
 * OpenTelemetry traces ({@code system { tracing { … } }}). Off by default; when off no span is created
 * and no tracing module is installed.
 *
 * @param enabled whether requests are traced and spans exported over OTLP
 * @param endpoint where spans are sent: the collector's OTLP/HTTP traces URL ({@code …:4318/v1/traces}), or
 *     for gRPC its address ({@code http://host:4317})
 * @param protocol the OTLP transport: {@code http/protobuf} or {@code grpc}
 * @param samplingRatio the share of new traces recorded, 0 to 1; a client's sampled flag is followed
 * @param serviceName the {@code service.name} resource attribute of every span
 */
public record TracingConfig(boolean enabled, URI endpoint, String protocol, double samplingRatio, String serviceName) {
    public static final String HTTP_PROTOBUF = "http/protobuf";
    public static final String GRPC = "grpc";
    /** The endpoint of {@code protocol "grpc"} when none is given: a local collector's OTLP/gRPC port. */
    public static final URI GRPC_DEFAULT_ENDPOINT = URI.create("http://127.0.0.1:4317");
    public static final TracingConfig DEFAULTS = new TracingConfig(false, URI.create("http://127.0.0.1:4318/v1/traces"), HTTP_PROTOBUF, 1.0, "river");

    /** The defaults, turned on and sending to {@code endpoint}. */
    public static TracingConfig enabledTo(URI endpoint, double samplingRatio) {
        return new TracingConfig(true, endpoint, HTTP_PROTOBUF, samplingRatio, DEFAULTS.serviceName());
    }
}
