package river.modules.files;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code Range: bytes=…} header (RFC 9110 §14.1.2) resolved against a file's size. Forms
 * {@code a-b}, {@code a-} and {@code -n}; a syntactically bad header, another unit, or more than
 * {@link #MAX_RANGES} ranges is ignored (the whole file is served, as §14.2 allows), and so are
 * overlapping ranges (a cheap defence against range amplification). Ranges that start past the end
 * are dropped; when none is left the request is unsatisfiable (416).
 */
final class ByteRanges {
    /** The most ranges one request may ask for; more are answered with the whole file. */
    static final int MAX_RANGES = 16;

    /** One satisfiable range, inclusive bounds. */
    record Range(long first, long last) {
        long length() {
            return last - first + 1;
        }
    }

    /** What to do with the Range header. */
    sealed interface Outcome {}

    /** Serve the whole file with 200. */
    record Whole() implements Outcome {}

    /** 416: no range is satisfiable. */
    record Unsatisfiable() implements Outcome {}

    /** 206 with these ranges (one: a single part; more: multipart/byteranges), in the order asked. */
    record Partial(List<Range> ranges) implements Outcome {}

    private static final Whole WHOLE = new Whole();

    private ByteRanges() {}

    static Outcome resolve(String header, long size) {
        if (header == null) {
            return WHOLE;
        }
        String h = header.trim();
        if (h.length() < 6 || !h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return WHOLE;
        }
        String[] specs = h.substring(6).split(",", -1);
        if (specs.length > MAX_RANGES) {
            return WHOLE;
        }
        List<Range> ranges = new ArrayList<>(specs.length);
        boolean any = false;
        for (String raw : specs) {
            String spec = raw.trim();
            if (spec.isEmpty()) {
                continue; // RFC 9110's list syntax allows empty elements
            }
            int dash = spec.indexOf('-');
            if (dash < 0) {
                return WHOLE;
            }
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            long first;
            long last;
            if (a.isEmpty()) {
                long n = number(b);
                if (n < 0) {
                    return WHOLE;
                }
                any = true;
                if (n == 0 || size == 0) {
                    continue;
                }
                first = Math.max(0, size - n);
                last = size - 1;
            } else {
                first = number(a);
                last = b.isEmpty() ? Long.MAX_VALUE : number(b);
                if (first < 0 || last < 0 || last < first) {
                    return WHOLE;
                }
                any = true;
                if (first >= size) {
                    continue;
                }
                last = Math.min(last, size - 1);
            }
            ranges.add(new Range(first, last));
        }
        if (!any) {
            return WHOLE;
        }
        if (ranges.isEmpty()) {
            return new Unsatisfiable();
        }
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                Range x = ranges.get(i);
                Range y = ranges.get(j);
                if (x.first <= y.last && y.first <= x.last) {
                    return WHOLE;
                }
            }
        }
        return new Partial(List.copyOf(ranges));
    }

    /** A non-negative decimal, or -1. */
    private static long number(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
