package river.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.codec.http.HttpMethod;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;
import river.proxy.ProxyError;
import river.testsupport.Scrape;
import river.upstream.Peer;

/** Recording a request into prepared data points allocates nothing once each status has been seen. */
class MetricsRecordingCostTest {
    @Test
    void recordingARequestAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        Metrics metrics = new Metrics();
        ServiceMetrics service = metrics.service("svc", List.of("/api", "/static"));
        Peer peer = Peer.of("127.0.0.1", 8000, 1);
        HttpMethod post = HttpMethod.valueOf("POST");
        for (int i = 0; i < 20_000; i++) {
            record(service, peer, post, i); // every status used below is seen once, and the JIT settles
        }
        long thread = Thread.currentThread().getId();
        // The interpreter and C1 allocate where C2 does not: the least of a few measured rounds (on a
        // loaded machine the JIT may finish late) is what the compiled path costs.
        long allocated = Long.MAX_VALUE;
        int rounds = 0;
        for (; rounds < 40 && allocated >= 10_000; rounds++) {
            long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < 10_000; i++) {
                record(service, peer, post, i);
            }
            allocated = Math.min(allocated, threads.getThreadAllocatedBytes(thread) - before);
        }
        // A label lookup (a String[] of label values) per request would be hundreds of kilobytes here.
        assertThat(allocated).as("bytes allocated recording 10,000 requests").isLessThan(10_000);
        Scrape s = Scrape.of(metrics.registry());
        assertThat(s.sum("http_server_request_duration_seconds_count", "service", "svc")).isEqualTo(20_000 + 10_000 * rounds);
        assertThat(s.sum("http_server_request_duration_seconds_count", "http_route", "/static", "http_request_method", "POST",
                "http_response_status_code", "404")).isEqualTo((20_000 + 10_000 * rounds) / 4);
        assertThat(s.sum("river_upstream_errors_total", "kind", "upstream_timeout")).isEqualTo(20_000 + 10_000 * rounds);
    }

    private static final ProxyError TIMEOUT = ProxyError.of(ProxyError.Kind.UPSTREAM_TIMEOUT);

    private static void record(ServiceMetrics service, Peer peer, HttpMethod method, int i) {
        int status = (i & 1) == 0 ? 200 : 404;
        service.duration(i & 1, (i & 2) == 0 ? HttpMethod.GET : method, status).observe(0.001 * (i % 50));
        PeerMetrics server = service.server(peer);
        server.duration.forStatus(status).observe(0.0005);
        server.timeToFirstByte.observe(0.0004);
        server.reusedConnection.inc();
        server.error(TIMEOUT).inc();
        service.sentBytes.inc(1234);
    }
}
