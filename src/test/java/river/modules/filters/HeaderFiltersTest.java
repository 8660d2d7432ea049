package river.modules.filters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import river.headers.CompactHeaders;
import river.testsupport.CountingCharSequence;

/** The header stages of path-control, on header blocks far larger and far more numerous than real ones. */
class HeaderFiltersTest {
    /** Built as the configuration readers build them: case-insensitive, a glob anchored at both ends. */
    private static final PathControlModule MODULE = new PathControlModule(new PathControlConfig(List.of(), List.of(
            new FilterConfig.RemoveHeaderKeyRegex(Pattern.compile("^x-secret-", Pattern.CASE_INSENSITIVE)),
            new FilterConfig.RemoveHeaderKeyGlob("x-*-trace", Pattern.compile("^\\Qx-\\E.*\\Q-trace\\E$", Pattern.CASE_INSENSITIVE)),
            new FilterConfig.RemoveHeader("x-absent"),
            new FilterConfig.UpsertHeader("x-via-river", "1")), List.of()));

    private static HttpRequest request(HttpHeaders headers) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", headers);
    }

    @Test
    void tenThousandDistinctHeadersAreFilteredInOnePass() {
        HttpHeaders headers = new CompactHeaders(true);
        List<CountingCharSequence> names = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            String name = i % 100 == 0 ? "X-Secret-" + i : i % 100 == 1 ? "x-" + i + "-TRACE" : "x-distinct-" + i;
            CountingCharSequence counted = new CountingCharSequence(name);
            names.add(counted);
            headers.add(counted, "v" + i);
            if (!name.startsWith("X-Secret-") && !name.endsWith("-TRACE")) {
                expected.add(name + "=v" + i);
            }
        }
        expected.add("x-via-river=1");
        names.forEach(CountingCharSequence::resetReads);

        MODULE.onUpstreamRequest(null, request(headers));

        List<String> left = new ArrayList<>();
        for (Map.Entry<String, String> e : headers) {
            left.add(e.getKey() + "=" + e.getValue());
        }
        assertEquals(expected, left, "exactly the matching names are gone, the rest in their order");
        long reads = names.stream().mapToLong(CountingCharSequence::reads).sum();
        long chars = names.stream().mapToLong(CharSequence::length).sum();
        // Each filter reads a name a bounded number of times (the glob backtracks over its length);
        // listing distinct names with a scan per name, as before, read about 10^9 characters here.
        assertTrue(reads <= 20 * chars, "read " + reads + " characters of " + chars);
    }

    @Test
    void nettysOwnHeadersAreFilteredAlike() {
        HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        headers.add("Host", "a").add("X-Secret-Key", "k").add("x-secret-key", "k2").add("x-b3-trace", "t").add("x-via-river", "0");
        MODULE.onUpstreamRequest(null, request(headers));
        List<String> left = new ArrayList<>();
        headers.forEach(e -> left.add(e.getKey() + "=" + e.getValue()));
        assertEquals(List.of("Host=a", "x-via-river=1"), left);
    }

    @Test
    void headersThatNothingMatchesCostNoAllocation() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        HttpHeaders headers = new CompactHeaders(true);
        for (String name : new String[] {"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Cookie", "Referer",
                "X-Forwarded-For", "X-Request-Id", "Cache-Control", "x-via-river"}) {
            headers.add(name, "value");
        }
        HttpRequest request = request(headers);
        long thread = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) {
            MODULE.onUpstreamRequest(null, request); // this thread's matchers, and the JIT, settle first
        }
        // The interpreter and C1 allocate where C2 does not, and a loaded machine compiles late: the least of up to
        // 40 measured rounds counts (a per-pass allocation shows in every round).
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 40 && allocated >= 10_000; round++) {
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < 10_000; i++) {
                MODULE.onUpstreamRequest(null, request);
            }
            allocated = Math.min(allocated, threads.getThreadAllocatedBytes(thread) - before);
        }
        assertEquals(11, headers.size());
        // A Matcher or a list of names per pass would be some megabytes over 10,000 passes.
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes in 10,000 passes");
    }
}
