package river.observe;

import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * River's metrics: one registry for the life of the process (counters keep counting across reloads),
 * read by the admin listener's {@code GET /metrics}.
 */
public final class Metrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();

    /** The registry the admin listener exposes. */
    public PrometheusRegistry registry() {
        return registry;
    }
}
