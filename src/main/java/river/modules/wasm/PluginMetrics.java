package river.modules.wasm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The metrics a plugin defines ({@code proxy_define_metric}): counters, gauges and histograms (kept as
 * their last value) shared by the plugin's VMs; the same name gives the same id in every VM. Bounded.
 * Not yet exported on the admin listener (docs/wasm.md#whats-missing).
 */
final class PluginMetrics {
    static final int MAX_METRICS = 256;
    private static final int COUNTER = 0;

    private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<AtomicLong> values = new AtomicReferenceArray<>(MAX_METRICS);
    private final int[] types = new int[MAX_METRICS];
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
            values.set((int) n, new AtomicLong());
            return (int) n;
        });
        return id;
    }

    int increment(int id, long offset) {
        AtomicLong v = value(id);
        if (v == null || types[id] == 2) {
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
        }
        return PluginVm.OK;
    }

    Long get(int id) {
        AtomicLong v = value(id);
        return v == null ? null : v.get();
    }

    private AtomicLong value(int id) {
        return id < 0 || id >= MAX_METRICS ? null : values.get(id);
    }
}
