package river.observe;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * River's metrics: one registry for the life of the process (counters keep counting across reloads),
 * read by the admin listener's {@code GET /metrics}. The families are created here once; each
 * service's data points are prepared by {@link #service} when its generation is wired, so that
 * recording a request is a few lock-free additions and no lookup by label.
 *
 * <p>Names follow OpenTelemetry's HTTP semantic conventions where they exist
 * ({@code http.server.request.duration} → {@code http_server_request_duration_seconds}, with its
 * advised buckets; {@code http.client.request.duration} for upstream attempts) and are River's own
 * under {@code river_} for the rest. No label comes from a raw path or a client address; upstream
 * servers, the one label that discovery can grow, are capped per service ({@link #MAX_SERVERS_PER_SERVICE})
 * with the rest counted under {@link #OVERFLOW}.
 */
public final class Metrics {
    /** OpenTelemetry's advised buckets for HTTP durations, in seconds. */
    static final double[] DURATION_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};
    /** Upstream servers counted one by one per service; beyond that they share the {@link #OVERFLOW} label. */
    public static final int MAX_SERVERS_PER_SERVICE = 1_000;
    /** The label value that stands for everything past a cardinality cap. */
    public static final String OVERFLOW = "_overflow";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ConcurrentHashMap<String, ServiceMetrics> services = new ConcurrentHashMap<>();

    final Histogram serverDuration = histogram("http_server_request_duration_seconds",
            "Duration of requests River served, from the request head's arrival to the response's end",
            "service", "http_route", "http_request_method", "http_response_status_code");
    final Histogram clientDuration = histogram("http_client_request_duration_seconds",
            "Duration of upstream attempts, from borrowing or dialling the connection to the response's end",
            "service", "server_address", "server_port", "http_response_status_code");
    final Histogram timeToFirstByte = histogram("river_upstream_time_to_first_byte_seconds",
            "From an upstream attempt's start (borrowing or dialling) to the upstream's response head",
            "service", "server_address", "server_port");
    final Histogram connectDuration = histogram("river_upstream_connect_duration_seconds",
            "Time to open a new upstream connection (TCP, TLS and HTTP/2 settings)",
            "service", "server_address", "server_port");
    final Counter connectionUses = counter("river_upstream_connection_uses",
            "Upstream attempts by whether they opened a new connection or reused a pooled one",
            "service", "server_address", "server_port", "connection");
    final Counter upstreamErrors = counter("river_upstream_errors",
            "Failed upstream attempts by kind (connect_failed, connect_timeout, upstream_closed, bad_response, upstream_timeout, ...)",
            "service", "server_address", "server_port", "kind");
    final Counter requestErrors = counter("river_request_errors",
            "Requests that ended in an error River answered or cut, by kind", "service", "kind");
    final Counter receivedBytes = counter("river_downstream_received_bytes",
            "Request body bytes received from clients", "service");
    final Counter sentBytes = counter("river_downstream_sent_bytes",
            "Response body bytes sent to clients", "service");
    final Counter rejections = counter("river_rejections",
            "Requests refused by a rate limit, filter or guard, by its configured rule", "service", "rule");
    final Counter reloads = counter("river_reloads", "Configuration reloads by outcome (ok, failed)", "outcome");
    final Counter upgrades = counter("river_upgrades", "Listener hand-overs to a new instance by outcome (ok, failed)", "outcome");

    /** Set once the JVM's own metrics are in the registry. */
    private boolean jvmExported;

    public Metrics() {
        io.netty.buffer.ByteBufAllocatorMetric pooled = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric();
        GaugeWithCallback.builder().name("river_netty_allocator_used_bytes").unit(Unit.BYTES)
                .help("Memory held by Netty's pooled buffer allocator").labelNames("memory")
                .callback(cb -> {
                    cb.call(pooled.usedDirectMemory(), "direct");
                    cb.call(pooled.usedHeapMemory(), "heap");
                }).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("river_access_log_dropped")
                .help("Access-log lines dropped because the writer's queue was full (the event loop never waits)")
                .callback(cb -> cb.call(AccessLog.dropped())).register(registry);
        GaugeWithCallback.builder().name("river_netty_direct_memory_used_bytes").unit(Unit.BYTES)
                .help("Direct memory Netty has reserved (all allocators), -1 when Netty cannot count it")
                .callback(cb -> cb.call(io.netty.util.internal.PlatformDependent.usedDirectMemory())).register(registry);
    }

    /** The registry the admin listener exposes. */
    /**
     * Adds the JVM's metrics (memory, GC, threads, classes) to the registry, once. Only when something can
     * read them (the admin listener with metrics on): they are read through the platform MXBeans, whose
     * classes and the GC notification thread cost about 1.5 MB of the RSS River starts with.
     */
    public synchronized void exportJvm() {
        if (!jvmExported) {
            JvmMetrics.builder().register(registry);
            jvmExported = true;
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * The prepared data points of service {@code name} with its configured {@code routes} (their labels,
     * in configuration order; empty for a service without routes). The same service keeps its
     * upstream servers' data points across reloads; its routes are prepared again.
     */
    public ServiceMetrics service(String name, List<String> routes) {
        ServiceMetrics before = services.get(name);
        ServiceMetrics next = new ServiceMetrics(this, name, routes, before);
        services.put(name, next);
        return next;
    }

    /** Counts one reload by outcome. */
    public void reloaded(boolean ok) {
        reloads.labelValues(ok ? "ok" : "failed").inc();
    }

    /** Counts one hand-over to an upgraded instance by outcome. */
    public void upgraded(boolean ok) {
        upgrades.labelValues(ok ? "ok" : "failed").inc();
    }

    private Histogram histogram(String name, String help, String... labels) {
        return Histogram.builder().name(name).unit(Unit.SECONDS).help(help).labelNames(labels)
                .classicOnly().classicUpperBounds(DURATION_BUCKETS).withoutExemplars().register(registry);
    }

    private Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
    }
}
