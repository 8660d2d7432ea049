package river.modules.wasm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The metrics a plugin defines ({@code proxy_define_metric}): counters, gauges and histograms shared by
 * the plugin's VMs; the same name gives the same id in every VM. Bounded. A histogram keeps the count
 * and sum of what was recorded (exported as a summary without quantiles) and its last value (what
 * {@code proxy_get_metric} reads). Read by the admin listener's {@code /metrics} through
 * {@link WasmPlugin#metrics}.
 */
final class PluginMetrics {
    static final int MAX_METRICS = 256;
    static final int COUNTER = 0;
    static final int GAUGE = 1;
    static final int HISTOGRAM = 2;

    private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<AtomicLong> values = new AtomicReferenceArray<>(MAX_METRICS);
    private final int[] types = new int[MAX_METRICS];
    private final String[] names = new String[MAX_METRICS];
    /** A histogram's count and sum, by id (null for the other types). */
    private final AtomicReferenceArray<AtomicLong[]> distributions = new AtomicReferenceArray<>(MAX_METRICS);
    private final AtomicLong next = new AtomicLong();

    /** The metric's id, or -1 when the plugin defined too many or the type is unknown. */
    int define(int type, String name) {
        if (type < 0 || type > 2) {
            return -1;
        }
        Integer id = ids.computeIfAbsent(type + ":" + name, k -> {
            long n = next.getAndIncrement();
            if (n >= MAX_METRICS) {
                return -1;
            }
            types[(int) n] = type;
            names[(int) n] = name;
            if (type == HISTOGRAM) {
                distributions.set((int) n, new AtomicLong[] {new AtomicLong(), new AtomicLong()});
            }
            values.set((int) n, new AtomicLong()); // last: the metric exists from here on
            return (int) n;
        });
        return id;
    }

    int increment(int id, long offset) {
        AtomicLong v = value(id);
        if (v == null || types[id] == HISTOGRAM) {
            return PluginVm.BAD_ARGUMENT;
        }
        v.addAndGet(offset);
        return PluginVm.OK;
    }

    int record(int id, long value) {
        AtomicLong v = value(id);
        if (v == null) {
            return PluginVm.BAD_ARGUMENT;
        }
        if (types[id] == COUNTER) {
            v.addAndGet(value);
        } else {
            v.set(value);
            AtomicLong[] d = distributions.get(id);
            if (d != null) {
                d[0].incrementAndGet();
                d[1].addAndGet(value);
            }
        }
        return PluginVm.OK;
    }

    Long get(int id) {
        AtomicLong v = value(id);
        return v == null ? null : v.get();
    }

    /** Every metric defined so far, with its current value. */
    void forEach(WasmPlugin.MetricVisitor visitor) {
        for (int id = 0; id < MAX_METRICS; id++) {
            AtomicLong v = values.get(id);
            if (v == null) {
                continue; // not defined, or not yet visible
            }
            switch (types[id]) {
                case COUNTER -> visitor.counter(names[id], v.get());
                case GAUGE -> visitor.gauge(names[id], v.get());
                default -> {
                    AtomicLong[] d = distributions.get(id);
                    visitor.histogram(names[id], d[0].get(), d[1].get());
                }
            }
        }
    }

    private AtomicLong value(int id) {
        return id < 0 || id >= MAX_METRICS ? null : values.get(id);
    }
}
