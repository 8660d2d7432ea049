package river.config;

import java.net.URI;

/**
 * OpenTelemetry traces ({@code system { tracing { … } }}). Off by default; when off no span is created
 * and no tracing module is installed.
 *
 * @param enabled whether requests are traced and spans exported over OTLP
 * @param endpoint where spans are sent: the OTLP/HTTP traces URL of a collector
 * @param protocol the OTLP transport; {@code http/protobuf} (the one this build carries a sender for)
 * @param samplingRatio the share of new traces recorded, 0 to 1; a client's sampled flag is followed
 * @param serviceName the {@code service.name} resource attribute of every span
 */
public record TracingConfig(boolean enabled, URI endpoint, String protocol, double samplingRatio, String serviceName) {
    public static final String HTTP_PROTOBUF = "http/protobuf";
    public static final TracingConfig DEFAULTS = new TracingConfig(false, URI.create("http://127.0.0.1:4318/v1/traces"), HTTP_PROTOBUF, 1.0, "river");

    /** The defaults, turned on and sending to {@code endpoint}. */
    public static TracingConfig enabledTo(URI endpoint, double samplingRatio) {
        return new TracingConfig(true, endpoint, HTTP_PROTOBUF, samplingRatio, DEFAULTS.serviceName());
    }
}
