package river.config;

/**
 * OpenTelemetry traces ({@code system { tracing { … } }}). Off by default; when off no span is created.
 *
 * @param enabled whether requests are traced and spans exported over OTLP
 */
public record TracingConfig(boolean enabled) {
    public static final TracingConfig DEFAULTS = new TracingConfig(false);
}
