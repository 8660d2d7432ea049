package river.headers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import river.testsupport.CountingCharSequence;

/** CompactHeaders must answer exactly as Netty's DefaultHttpHeaders for every operation River and Netty use. */
class CompactHeadersTest {
    private static final String[] NAMES = {"Host", "host", "HOST", "Content-Length", "connection", "X-A", "x-a", "Via", "Set-Cookie"};
    private static final String[] VALUES = {"a", "b", "keep-alive", "close", "Keep-Alive, Upgrade", " chunked ", "gzip, chunked", "1", "x y"};

    @Test
    void behavesLikeNettysHeadersUnderRandomOperations() {
        Random random = new Random(42);
        for (int round = 0; round < 500; round++) {
            HttpHeaders expected = DefaultHttpHeadersFactory.headersFactory().newHeaders();
            HttpHeaders actual = new CompactHeaders(true);
            for (int op = 0; op < 30; op++) {
                String name = NAMES[random.nextInt(NAMES.length)];
                CharSequence asName = random.nextBoolean() ? name : AsciiString.of(name);
                String value = VALUES[random.nextInt(VALUES.length)];
                int kind = random.nextInt(6);
                int o = op;
                assertEquals(outcome(() -> apply(expected, kind, asName, value, o)), outcome(() -> apply(actual, kind, asName, value, o)),
                        kind + " " + name + ": " + value);
                for (String n : NAMES) {
                    assertEquals(expected.get(n), actual.get(n), n);
                    assertEquals(expected.getAll(n), actual.getAll(n), n);
                    assertEquals(expected.contains(n), actual.contains(n), n);
                    assertEquals(expected.getInt(n), actual.getInt(n), n);
                    for (String v : new String[] {"keep-alive", "chunked", "upgrade", "b"}) {
                        assertEquals(expected.containsValue(n, v, true), actual.containsValue(n, v, true), n + " " + v);
                        assertEquals(expected.containsValue(n, v, false), actual.containsValue(n, v, false), n + " " + v);
                        assertEquals(expected.contains(n, v, true), actual.contains(n, v, true), n + " " + v);
                    }
                }
                assertEquals(expected.size(), actual.size());
                assertEquals(expected.isEmpty(), actual.isEmpty());
                assertEquals(text(expected.entries()), text(actual.entries()));
                List<Map.Entry<String, String>> iterated = new ArrayList<>();
                actual.iterator().forEachRemaining(iterated::add);
                assertEquals(text(expected.entries()), text(iterated));
                assertEquals(pairs(expected), pairs(actual));
                // names() differs on purpose: Netty's set keeps "Host" and "host" apart, HTTP does not.
                assertEquals(firstSpellings(expected), new ArrayList<>(actual.names()));
            }
            assertEquals(pairs(expected), pairs(actual.copy()));
        }
    }

    private static void apply(HttpHeaders headers, int kind, CharSequence name, String value, int number) {
        switch (kind) {
            case 0, 1 -> headers.add(name, value);
            case 2 -> headers.set(name, value);
            case 3 -> headers.remove(name);
            case 4 -> headers.addInt(name, number);
            default -> CompactHeaders.removeNames(headers, n -> n.length() == name.length() && AsciiString.contentEqualsIgnoreCase(n, name)
                    || AsciiString.regionMatches(n, true, 0, "x-", 0, 2));
        }
    }

    /** Each name once, case-insensitively, spelled as it first arrived, in arrival order. */
    private static List<String> firstSpellings(HttpHeaders headers) {
        Map<String, String> first = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> e : headers.entries()) {
            first.putIfAbsent(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getKey());
        }
        return new ArrayList<>(first.values());
    }

    private static String outcome(Runnable operation) {
        try {
            operation.run();
            return "ok";
        } catch (IllegalArgumentException e) {
            return "refused";
        }
    }

    private static List<String> text(List<Map.Entry<String, String>> entries) {
        List<String> out = new ArrayList<>();
        entries.forEach(e -> out.add(e.getKey() + "=" + e.getValue()));
        return out;
    }

    private static List<String> pairs(HttpHeaders headers) {
        List<String> out = new ArrayList<>();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + "=" + e.getValue());
        }
        return out;
    }

    @Test
    void validatingHeadersRefuseWhatNettysRefuse() {
        HttpHeaders strict = new CompactHeaders(true);
        for (String badName : new String[] {"", "a b", "a:b", "a\rb", "x\u0000", "(x)"}) {
            assertThrows(IllegalArgumentException.class, () -> strict.add(badName, "v"), badName);
        }
        for (String badValue : new String[] {"a\r\nb", "a\nb", "a\u0000b"}) {
            assertThrows(IllegalArgumentException.class, () -> strict.add("x", badValue), badValue);
        }
        assertTrue(strict.isEmpty());
        HttpHeaders trusting = new CompactHeaders(false);
        trusting.add("a b", "v");
        assertEquals("v", trusting.get("a b"));
    }

    @Test
    void trailersRefuseFramingHeadersAsNettysDo() {
        HttpHeaders netty = DefaultHttpHeadersFactory.trailersFactory().newHeaders();
        HttpHeaders ours = CompactHeaders.trailersFactory().newHeaders();
        for (String name : new String[] {"Content-Length", "transfer-encoding", "Trailer", "X-Checksum", "grpc-status"}) {
            assertEquals(outcome(() -> netty.add(name, "1")), outcome(() -> ours.add(name, "1")), name);
        }
        assertEquals(2, ours.size());
    }

    @Test
    void bulkRemovalAndCursorRemovalKeepOrder() {
        CompactHeaders headers = new CompactHeaders(true);
        headers.add("A", "1").add("Connection", "close").add("B", "2").add("TE", "trailers").add("C", "3");
        assertEquals(2, headers.removeIf(n -> AsciiString.contentEqualsIgnoreCase(n, "connection") || AsciiString.contentEqualsIgnoreCase(n, "te")));
        assertEquals(List.of("A=1", "B=2", "C=3"), pairs(headers));
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            if (it.next().getKey().equals("B")) {
                it.remove();
            }
        }
        assertEquals(List.of("A=1", "C=3"), pairs(headers));
        assertFalse(headers.contains(HttpHeaderNames.CONNECTION));
        assertEquals("3", headers.get("c"));
    }

    @Test
    void namesAndNameRemovalReadEachNameAboutOnceInALargeBlock() {
        CompactHeaders headers = new CompactHeaders(true);
        List<CountingCharSequence> names = new ArrayList<>();
        long chars = 0;
        for (int i = 0; i < 10_000; i++) {
            // Same length and a long shared prefix: a scan per name compares deep into every pair.
            CountingCharSequence name = new CountingCharSequence(String.format("x-distinct-header-%05d", i));
            names.add(name);
            chars += name.length();
            headers.add(name, "v");
        }
        headers.add("X-DISTINCT-HEADER-00007", "again");
        names.forEach(CountingCharSequence::resetReads);

        List<String> distinct = new ArrayList<>(headers.names());
        assertEquals(10_000, distinct.size(), "the repeated name in other case is one name");
        assertEquals("x-distinct-header-00007", distinct.get(7));
        assertEquals("x-distinct-header-09999", distinct.get(9_999));
        long namesReads = names.stream().mapToLong(CountingCharSequence::reads).sum();
        // A quadratic scan reads some 10^9 characters here; hashing each name once reads about 10^5.
        assertTrue(namesReads <= 4 * chars, "names() read " + namesReads + " characters of " + chars);

        names.forEach(CountingCharSequence::resetReads);
        int removed = CompactHeaders.removeNames(headers, n -> n.charAt(n.length() - 1) == '7');
        assertEquals(1_001, removed, "every name ending in 7, and the repeat");
        long removalReads = names.stream().mapToLong(CountingCharSequence::reads).sum();
        assertTrue(removalReads <= 2L * names.size(), "one pass reads each name once, read " + removalReads);
        assertEquals(9_000, headers.size());
        assertFalse(headers.contains("x-distinct-header-00007"));
        assertEquals("v", headers.get("x-distinct-header-00008"));
    }
}
