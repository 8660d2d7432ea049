package river.modules.wasm;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A plugin's shared data: keys and values every VM of the plugin (one per event-loop thread) reads and
 * writes, with the ABI's compare-and-swap versions. Bounded in keys and value size; kept across reloads
 * of an unchanged plugin is not (yet) done: a new generation starts empty.
 */
final class SharedData {
    static final int MAX_KEYS = 4096;
    static final int MAX_VALUE_BYTES = 64 * 1024;

    record Entry(byte[] value, int cas) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    Entry get(String key) {
        return entries.get(key);
    }

    /** The ABI's set: {@code cas} 0 writes unconditionally, otherwise only over that version. */
    int set(String key, byte[] value, int cas) {
        if (value.length > MAX_VALUE_BYTES || (entries.size() >= MAX_KEYS && !entries.containsKey(key))) {
            return PluginVm.BAD_ARGUMENT;
        }
        int[] result = {PluginVm.OK};
        entries.compute(key, (k, old) -> {
            if (cas != 0 && (old == null || old.cas() != cas)) {
                result[0] = PluginVm.CAS_MISMATCH;
                return old;
            }
            int next = old == null ? 1 : old.cas() + 1;
            return new Entry(value, next == 0 ? 1 : next);
        });
        return result[0];
    }
}
