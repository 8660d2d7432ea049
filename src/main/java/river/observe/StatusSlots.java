package river.observe;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Data points by response status, created on first use and then found by array index: recording a
 * status seen before takes no lookup, no lock and no allocation. Codes 100–599 each have a slot;
 * anything else shares {@code other}, and "no response" has a slot of its own.
 */
final class StatusSlots<T> {
    static final int NONE = 501;
    private static final String[] LABELS = new String[502];

    static {
        LABELS[0] = "other";
        for (int code = 100; code < 600; code++) {
            LABELS[code - 99] = Integer.toString(code);
        }
        LABELS[NONE] = "none";
    }

    private final AtomicReferenceArray<T> slots = new AtomicReferenceArray<>(LABELS.length);
    private final java.util.function.Function<String, T> create;

    StatusSlots(java.util.function.Function<String, T> create) {
        this.create = create;
    }

    /** The slot of status {@code code}; 0 or below means no response was sent. */
    static int index(int code) {
        if (code <= 0) {
            return NONE;
        }
        return code >= 100 && code < 600 ? code - 99 : 0;
    }

    /** The data point for status {@code code}, created once (label values are idempotent, so a race is harmless). */
    T forStatus(int code) {
        int i = index(code);
        T point = slots.get(i);
        if (point == null) {
            point = create.apply(LABELS[i]);
            slots.lazySet(i, point);
        }
        return point;
    }
}
