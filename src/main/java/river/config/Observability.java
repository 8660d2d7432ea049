package river.config;

/**
 * What River shows of itself (extensions in River's {@code system} block): the admin listener with its
 * metrics, the application and access logs, and traces.
 *
 * @param admin the admin listener ({@code system { admin { … } }}) and whether metrics are recorded
 * @param logs where and how the application log and the access log are written ({@code log}, {@code access-log})
 * @param tracing OpenTelemetry traces ({@code system { tracing { … } }})
 */
public record Observability(AdminConfig admin, LogConfig logs, TracingConfig tracing) {
    public static final Observability DEFAULTS = new Observability(AdminConfig.DEFAULTS, LogConfig.DEFAULTS, TracingConfig.DEFAULTS);
}
