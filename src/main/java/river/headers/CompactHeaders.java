package river.headers;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Predicate;

/**
 * HTTP headers as one flat array of names and values in arrival order, looked up by a linear,
 * case-insensitive scan. A message carries a dozen headers or so, and a proxy reads only a few of
 * them: scanning a short array beats hashing every name into buckets, and the whole block costs one
 * object and one array instead of an entry object per header plus a bucket table (Netty's
 * {@code DefaultHttpHeaders}), which was the largest share of River's allocations per request.
 *
 * <p>With validation on, names must be tokens and values must not contain CR, LF or NUL (RFC 9110
 * §5.5), checked on every add and set, with the same rules as Netty's validating headers.
 *
 * <p>{@link #iteratorCharSequence()} hands out one reused entry: read it before calling
 * {@code next()} again (every caller in Netty and River does). {@link #iterator()} and
 * {@link #entries()} give independent entries.
 */
public final class CompactHeaders extends HttpHeaders {
    private static final CharSequence[] NONE = new CharSequence[0];

    private final boolean validate;
    /** name at 2i, value at 2i + 1 */
    private CharSequence[] slots = NONE;
    private int size;

    private static final HttpHeadersFactory VALIDATING = new Factory(true, false);
    private static final HttpHeadersFactory TRUSTING = new Factory(false, false);
    private static final HttpHeadersFactory TRAILERS = new Factory(true, true);

    private final boolean trailers;

    public CompactHeaders(boolean validate) {
        this(validate, false);
    }

    private CompactHeaders(boolean validate, boolean trailers) {
        this.validate = validate;
        this.trailers = trailers;
    }

    /** Validating headers for a trailer section, which may not carry framing headers (RFC 9110 §6.5.1). */
    public static HttpHeadersFactory trailersFactory() {
        return TRAILERS;
    }

    /**
     * A factory for Netty's decoders and for code building messages: {@code validate} false only
     * for headers copied from an already validated message.
     */
    public static HttpHeadersFactory factory(boolean validate) {
        return validate ? VALIDATING : TRUSTING;
    }

    private static final class Factory implements HttpHeadersFactory {
        private final boolean validate;
        private final boolean trailers;

        Factory(boolean validate, boolean trailers) {
            this.validate = validate;
            this.trailers = trailers;
        }

        @Override
        public HttpHeaders newHeaders() {
            return new CompactHeaders(validate, trailers);
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return newHeaders();
        }
    }

    private CharSequence name(int i) {
        return slots[i << 1];
    }

    private CharSequence value(int i) {
        return slots[(i << 1) + 1];
    }

    private int indexOf(CharSequence name, int from) {
        for (int i = from; i < size; i++) {
            if (AsciiString.contentEqualsIgnoreCase(slots[i << 1], name)) {
                return i;
            }
        }
        return -1;
    }

    private void append(CharSequence name, CharSequence value) {
        if (validate) {
            check(name, value);
        }
        int at = size << 1;
        if (at == slots.length) {
            slots = Arrays.copyOf(slots, Math.max(16, at * 2));
        }
        slots[at] = name;
        slots[at + 1] = value;
        size++;
    }

    private void check(CharSequence name, CharSequence value) {
        validateName(name);
        validateValue(value);
        if (trailers && isFraming(name)) {
            throw new IllegalArgumentException("prohibited trailing header: " + name);
        }
    }

    private static boolean isFraming(CharSequence name) {
        return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)
                || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)
                || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRAILER);
    }

    private static void validateName(CharSequence name) {
        if (name == null || name.length() == 0) {
            throw new IllegalArgumentException("empty header name");
        }
        int bad = HttpHeaderValidationUtil.validateToken(name);
        if (bad != -1) {
            throw new IllegalArgumentException("a header name can only contain token characters, found 0x"
                    + Integer.toHexString(name.charAt(bad)) + " at " + bad + " in: " + name);
        }
    }

    private static void validateValue(CharSequence value) {
        int bad = HttpHeaderValidationUtil.validateValidHeaderValue(value);
        if (bad != -1) {
            throw new IllegalArgumentException("a header value may not contain 0x"
                    + Integer.toHexString(value.charAt(bad)) + " (at " + bad + ")");
        }
    }

    private static CharSequence text(Object value) {
        if (value instanceof CharSequence) {
            return (CharSequence) value;
        }
        if (value instanceof Date) {
            return DateFormatter.format((Date) value);
        }
        if (value instanceof Calendar) {
            return DateFormatter.format(((Calendar) value).getTime());
        }
        if (value == null) {
            throw new NullPointerException("value");
        }
        return value.toString();
    }

    /** Removes every header whose name matches, in one pass; returns how many went. */
    public int removeIf(Predicate<CharSequence> nameMatches) {
        return compact(0, nameMatches, null);
    }

    /**
     * Drops, from index {@code from} on, the headers named {@code name} or, when it is null, those
     * whose name matches; the rest keep their order. A name rather than a predicate lets
     * {@link #remove} pass no object per call.
     */
    private int compact(int from, Predicate<CharSequence> nameMatches, CharSequence name) {
        int kept = from;
        for (int i = from; i < size; i++) {
            if (!(name != null ? AsciiString.contentEqualsIgnoreCase(name(i), name) : nameMatches.test(name(i)))) {
                slots[kept << 1] = slots[i << 1];
                slots[(kept << 1) + 1] = slots[(i << 1) + 1];
                kept++;
            }
        }
        int removed = size - kept;
        Arrays.fill(slots, kept << 1, size << 1, null);
        size = kept;
        return removed;
    }

    /**
     * Removes every header whose name matches from any header block, reading each name once (the
     * predicate should ignore case, as header names do): this block's {@link #removeIf}, or for
     * Netty's own headers, whose iterator cannot remove, one pass to find the names and a removal
     * per matching name. Allocates nothing for a CompactHeaders.
     */
    public static int removeNames(HttpHeaders headers, Predicate<CharSequence> nameMatches) {
        if (headers instanceof CompactHeaders compact) {
            return compact.removeIf(nameMatches);
        }
        List<CharSequence> doomed = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (nameMatches.test(name)) {
                if (doomed == null) {
                    doomed = new ArrayList<>(2);
                }
                doomed.add(name);
            }
        }
        if (doomed == null) {
            return 0;
        }
        int before = headers.size();
        doomed.forEach(headers::remove);
        return before - headers.size();
    }

    // ---- reads

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : value(i).toString();
    }

    @Override
    public String get(CharSequence name, String defaultValue) {
        String v = get(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Integer getInt(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Short.parseShort(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return null;
        }
        Date date = DateFormatter.parseHttpDate(value(i));
        return date == null ? null : date.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int first = indexOf(name, 0);
        if (first < 0) {
            return Collections.emptyList();
        }
        int second = indexOf(name, first + 1);
        if (second < 0) {
            return Collections.singletonList(value(first).toString());
        }
        List<String> all = new ArrayList<>(4);
        for (int i = first; i >= 0; i = indexOf(name, i + 1)) {
            all.add(value(i).toString());
        }
        return all;
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> all = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            all.add(new AbstractMap.SimpleImmutableEntry<>(name(i).toString(), value(i).toString()));
        }
        return all;
    }

    @Override
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(value(i), value) : AsciiString.contentEquals(value(i), value)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a header of that name has the value as one of its comma-separated, trimmed elements. */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (hasElement(value(i), value, ignoreCase)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasElement(CharSequence list, CharSequence wanted, boolean ignoreCase) {
        int n = list.length();
        int start = 0;
        while (start <= n) {
            int end = start;
            while (end < n && list.charAt(end) != ',') {
                end++;
            }
            int a = start;
            int b = end;
            while (a < b && isOws(list.charAt(a))) {
                a++;
            }
            while (b > a && isOws(list.charAt(b - 1))) {
                b--;
            }
            if (b - a == wanted.length() && regionMatches(list, a, wanted, ignoreCase)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean regionMatches(CharSequence list, int at, CharSequence wanted, boolean ignoreCase) {
        for (int k = 0; k < wanted.length(); k++) {
            char x = list.charAt(at + k);
            char y = wanted.charAt(k);
            if (x != y && !(ignoreCase && lower(x) == lower(y))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        Cursor cursor = new Cursor();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return cursor.hasNext();
            }

            @Override
            public Map.Entry<String, String> next() {
                Map.Entry<CharSequence, CharSequence> e = cursor.next();
                return new AbstractMap.SimpleImmutableEntry<>(e.getKey().toString(), e.getValue().toString());
            }
        };
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new Cursor();
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    /**
     * The distinct names in arrival order, compared case-insensitively (the first spelling wins). Linear
     * in the number of headers: the first occurrences are found through a table of indices keyed by
     * the case-insensitive hash, where a scan per name would be quadratic in a large block.
     */
    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        if (size == 0) {
            return names;
        }
        // Open addressing at a load of at most one half; a slot holds index + 1, 0 is empty.
        int[] firsts = new int[Integer.highestOneBit(size * 2 - 1) << 1];
        int[] hashes = new int[firsts.length];
        int mask = firsts.length - 1;
        for (int i = 0; i < size; i++) {
            CharSequence name = name(i);
            int hash = AsciiString.hashCode(name);
            for (int at = (hash ^ (hash >>> 16)) & mask; ; at = (at + 1) & mask) {
                int seen = firsts[at];
                if (seen == 0) {
                    firsts[at] = i + 1;
                    hashes[at] = hash;
                    names.add(name.toString());
                    break;
                }
                if (hashes[at] == hash && AsciiString.contentEqualsIgnoreCase(name(seen - 1), name)) {
                    break;
                }
            }
        }
        return names;
    }

    // ---- writes

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        append(name, text(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        for (Object v : values) {
            append(name, text(v));
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers == this) {
            throw new IllegalArgumentException("can't add to itself");
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            append(e.getKey(), e.getValue());
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        append(name, Integer.toString(value));
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        append(name, Short.toString(value));
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence text = text(value);
        if (validate) {
            // Refuse before removing anything, so a bad header leaves the others as they were.
            check(name, text);
        }
        remove(name);
        append(name, text);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        remove(name);
        return add(name, values);
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        if (headers != this) {
            clear();
            add(headers);
        }
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        int first = indexOf(name, 0);
        if (first >= 0) {
            compact(first, null, name);
        }
        return this;
    }

    @Override
    public HttpHeaders clear() {
        Arrays.fill(slots, 0, size << 1, null);
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        CompactHeaders copy = new CompactHeaders(validate, trailers);
        copy.slots = size == 0 ? NONE : Arrays.copyOf(slots, size << 1);
        copy.size = size;
        return copy;
    }

    /** Walks the headers, handing out itself as the current entry (no allocation per header). */
    private final class Cursor implements Iterator<Map.Entry<CharSequence, CharSequence>>, Map.Entry<CharSequence, CharSequence> {
        private int next;
        private int current = -1;

        @Override
        public boolean hasNext() {
            return next < size;
        }

        @Override
        public Map.Entry<CharSequence, CharSequence> next() {
            if (next >= size) {
                throw new NoSuchElementException();
            }
            current = next++;
            return this;
        }

        @Override
        public void remove() {
            if (current < 0) {
                throw new IllegalStateException();
            }
            int last = size - 1;
            System.arraycopy(slots, (current + 1) << 1, slots, current << 1, (last - current) << 1);
            slots[last << 1] = null;
            slots[(last << 1) + 1] = null;
            size = last;
            next = current;
            current = -1;
        }

        @Override
        public CharSequence getKey() {
            return name(current);
        }

        @Override
        public CharSequence getValue() {
            return value(current);
        }

        @Override
        public CharSequence setValue(CharSequence value) {
            CharSequence text = text(value);
            if (validate) {
                validateValue(text);
            }
            CharSequence old = value(current);
            slots[(current << 1) + 1] = text;
            return old;
        }

        @Override
        public String toString() {
            return getKey() + ": " + getValue();
        }
    }
}
