package river.service;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import river.modules.wasm.WasmPlugin;

/**
 * The WebAssembly plugins' metrics, read from the current generation's plugins when Prometheus scrapes
 * (docs/metrics.md): River's failure counter per plugin and kind, and each metric a plugin defined
 * ({@code proxy_define_metric}, at most 256 per plugin) as {@code wasm_<name>} with the service and
 * plugin as labels. Both are per generation: a reload compiles the plugins again and starts them at 0.
 */
final class WasmMetrics {
    static final String PREFIX = "wasm_";

    private WasmMetrics() {}

    static void register(PrometheusRegistry registry, Supplier<Generation> current) {
        CounterWithCallback.builder().name("river_wasm_plugin_failures")
                .help("Calls into a WebAssembly plugin that failed, by kind (trap, timeout, memory, instantiation); the VM was replaced")
                .labelNames("service", "plugin", "kind")
                .callback(cb -> {
                    for (ServiceGeneration s : current.get().services()) {
                        for (WasmPlugin p : s.plugins()) {
                            for (WasmPlugin.FailureKind kind : WasmPlugin.FailureKind.values()) {
                                cb.call(p.failures(kind), s.name(), p.pluginName(), kind.label());
                            }
                        }
                    }
                }).register(registry);
        registry.register((MultiCollector) () -> collect(current.get()));
    }

    /** The Prometheus name of a plugin's metric: {@code wasm_} and the name with what Prometheus does not allow replaced. */
    static String name(String pluginMetric) {
        return PrometheusNaming.sanitizeMetricName(PREFIX + pluginMetric.replaceAll("[^a-zA-Z0-9_:]", "_"));
    }

    private static MetricSnapshots collect(Generation generation) {
        // One family per name; a name another plugin defined with another type keeps the first type's series only.
        Map<String, Object> families = new LinkedHashMap<>();
        for (ServiceGeneration s : generation.services()) {
            for (WasmPlugin p : s.plugins()) {
                Labels labels = Labels.of("service", s.name(), "plugin", p.pluginName());
                p.metrics(new WasmPlugin.MetricVisitor() {
                    @Override
                    public void counter(String metric, long value) {
                        if (families.computeIfAbsent(name(metric), n -> CounterSnapshot.builder().name(n).help("plugin counter " + metric))
                                instanceof CounterSnapshot.Builder b) {
                            b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).labels(labels).build());
                        }
                    }

                    @Override
                    public void gauge(String metric, long value) {
                        if (families.computeIfAbsent(name(metric), n -> GaugeSnapshot.builder().name(n).help("plugin gauge " + metric))
                                instanceof GaugeSnapshot.Builder b) {
                            b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(labels).build());
                        }
                    }

                    @Override
                    public void histogram(String metric, long count, long sum) {
                        if (families.computeIfAbsent(name(metric), n -> SummarySnapshot.builder().name(n).help("plugin histogram " + metric))
                                instanceof SummarySnapshot.Builder b) {
                            b.dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder().count(count).sum(sum).labels(labels).build());
                        }
                    }
                });
            }
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        for (Object b : families.values()) {
            out.metricSnapshot(b instanceof CounterSnapshot.Builder c ? c.build() : b instanceof GaugeSnapshot.Builder g ? g.build()
                    : (MetricSnapshot) ((SummarySnapshot.Builder) b).build());
        }
        return out.build();
    }
}
