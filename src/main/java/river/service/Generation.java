package river.service;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.ListenAddress;
import river.config.ListenerConfig;
import river.config.RiverConfig;
import river.config.ServiceConfig;
import river.config.ServiceHandler;
import river.modules.ratelimit.RateLimitModule;
import river.server.ClientConnections;
import river.server.ConnectionLimiter;
import river.server.ServerTls;
import river.server.Transport;
import river.upstream.ConnectionPool;

/**
 * One configuration made runnable: every service's engine and modules, selectors, limits, health
 * checks, discovery and pools, built once from a {@link RiverConfig} and never changed. The server
 * swaps the current generation atomically on reload; a connection is served all its life by the
 * generation that was current when it was accepted. A generation counts its connections and is
 * released (its health checks and discovery stopped, its pools and event loops closed, unless the
 * next generation took them over) when it is no longer current and its last connection has ended.
 */
final class Generation {
    private static final Logger LOG = LoggerFactory.getLogger(Generation.class);

    private final int number;
    private final RiverConfig config;
    private final Map<String, ServiceGeneration> services;
    /** By service name: what its connections are counted against, one shared by them all. */
    private final Map<String, ClientConnections.Tenancy> tenancies = new java.util.HashMap<>();
    /** The process's tracing while this generation is current (taken over when its configuration is equal), or null when off. */
    private river.observe.Tracing tracing;
    /** One for being current, one per connection; at zero the generation is released. */
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean released = new AtomicBoolean();
    /** Called once, with this generation, when it has been released. */
    private volatile java.util.function.Consumer<Generation> onReleased = g -> {};

    private Generation(int number, RiverConfig config, Map<String, ServiceGeneration> services) {
        this.number = number;
        this.config = config;
        this.services = Collections.unmodifiableMap(services);
    }

    /**
     * Builds generation {@code number} from {@code config}, taking over from {@code previous} (null at
     * start) the event loops of every service that stays, and the pools, upstream groups, connection
     * limiters and rate limiters whose configuration is equal. On failure, what was built new is closed
     * and {@code previous} is untouched.
     */
    static Generation build(int number, RiverConfig config, Generation previous, Transport transport, Executor blocking,
            river.observe.Metrics metrics, river.server.ManagedCertificates managed, river.observe.AccessLogWriter accessLog,
            java.util.function.Function<String, java.util.concurrent.CompletionStage<String>> acmeChallenges)
            throws IOException, InterruptedException {
        Map<String, ServiceGeneration> services = new LinkedHashMap<>();
        Generation built = new Generation(number, config, services);
        try {
            built.tracing = tracing(config.system().observability().tracing(), previous);
            for (ServiceConfig service : config.services()) {
                ServiceGeneration before = previous == null ? null : previous.services.get(service.name());
                services.put(service.name(), ServiceGeneration.build(service, config.system(), before, transport, blocking, metrics, managed, built.tracing,
                        accessLog, config.acme().isPresent() ? acmeChallenges : null));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            built.free(previous == null ? Set.of() : previous.resources());
            throw e;
        }
        Runnable ended = built::unreference;
        services.forEach((name, s) -> built.tenancies.put(name, new ClientConnections.Tenancy(built, s.limiter(), ended)));
        return built;
    }

    /** The previous generation's tracing when its configuration is the same, a new one when tracing is on, else null. */
    private static river.observe.Tracing tracing(river.config.TracingConfig wanted, Generation previous) {
        if (previous != null && previous.tracing != null && previous.config.system().observability().tracing().equals(wanted)) {
            return previous.tracing;
        }
        if (!wanted.enabled()) {
            return null;
        }
        return river.observe.Tracing.start(wanted.endpoint(), wanted.protocol().equals(river.config.TracingConfig.GRPC), wanted.samplingRatio(),
                wanted.serviceName(),
                Long.getLong("river.tracing.exportDelayMs", 1_000));
    }

    int number() {
        return number;
    }

    /** The process's tracing while this generation serves, or null when tracing is off. */
    river.observe.Tracing tracing() {
        return tracing;
    }

    RiverConfig config() {
        return config;
    }

    /** The services in configuration order. */
    List<ServiceGeneration> services() {
        return List.copyOf(services.values());
    }

    ServiceGeneration service(String name) {
        return services.get(name);
    }

    /** The listeners of this generation, keyed by service and address. */
    Map<ListenerKey, ListenerConfig> listeners() {
        Map<ListenerKey, ListenerConfig> all = new LinkedHashMap<>();
        for (ServiceGeneration s : services.values()) {
            all.putAll(ListenerKey.of(s.config()));
        }
        return all;
    }

    /**
     * A listener as the reload matches them: the same address of the same service. {@code occurrence}
     * tells apart listeners written with the same address (several {@code "127.0.0.1:0"}): the n-th
     * stays the n-th.
     */
    record ListenerKey(String service, ListenAddress address, int occurrence) {
        /** The keys of a service's listeners, in configuration order. */
        static Map<ListenerKey, ListenerConfig> of(ServiceConfig service) {
            Map<ListenerKey, ListenerConfig> keys = new LinkedHashMap<>();
            Map<ListenAddress, Integer> seen = new java.util.HashMap<>();
            for (ListenerConfig l : service.listeners()) {
                keys.put(new ListenerKey(service.name(), l.address(), seen.merge(l.address(), 1, Integer::sum) - 1), l);
            }
            return keys;
        }

        @Override
        public String toString() {
            return service + " " + address + (occurrence == 0 ? "" : " (#" + (occurrence + 1) + ")");
        }
    }

    /**
     * Counts a just-accepted connection against this generation, until the tenancy it is admitted with
     * ({@link #tenancy}) ends or it is {@link #disown}ed; false (the connection must be closed) when the
     * generation was already released.
     */
    boolean adopt() {
        int n;
        do {
            n = references.get();
            if (n <= 0) {
                return false;
            }
        } while (!references.compareAndSet(n, n + 1));
        return true;
    }

    /** An adopted connection was refused admission: it is no longer counted. */
    void disown() {
        unreference();
    }

    /** What a connection of {@code service} admitted by this generation is counted against (one shared by them all). */
    ClientConnections.Tenancy tenancy(ServiceGeneration service) {
        return tenancies.get(service.name());
    }

    /**
     * No longer current: every connection is asked to move to the new generation once what it has in
     * progress is done. HTTP/2 connections are sent GOAWAY (open streams finish here, the client's next
     * requests go on a new connection); an HTTP/1.1 connection's response in progress, or its next one,
     * says {@code Connection: close}; an idle keep-alive connection is left alone until the grace
     * period ends, so no client finds it closed under a request; tunnels run on. Released when the
     * last connection ends, or after {@code graceMs}, when what is left is closed.
     */
    void retire(long graceMs, java.util.concurrent.ScheduledExecutorService timer, ClientConnections connections,
            java.util.function.Consumer<Generation> whenReleased) {
        this.onReleased = whenReleased;
        services.values().forEach(ServiceGeneration::retirePlugins);
        connections.forEachOf(this, ch -> river.http.ConnectionDrain.begin(ch, 0, graceMs));
        unreference();
        if (!released.get()) {
            timer.schedule(() -> {
                if (!released.get()) {
                    LOG.info("generation {}: grace period over, closing its {} remaining connection(s)", number, connections.countOf(this));
                    connections.close(this, TimeUnit.SECONDS.toMillis(5));
                }
            }, graceMs, TimeUnit.MILLISECONDS);
        }
    }

    private void unreference() {
        if (references.decrementAndGet() == 0 && released.compareAndSet(false, true)) {
            onReleased.accept(this);
        }
    }

    boolean isReleased() {
        return released.get();
    }

    /** Every runtime object this generation uses that outlives a request (compared by identity). */
    Set<Object> resources() {
        Set<Object> all = Collections.newSetFromMap(new IdentityHashMap<>());
        services.values().forEach(s -> s.addResources(all));
        if (tracing != null) {
            all.add(tracing);
        }
        return all;
    }

    /** Every TLS context of the listeners of this generation, for the certificate watch. */
    List<ServerTls> certificates() {
        List<ServerTls> all = new ArrayList<>();
        services.values().forEach(s -> all.addAll(s.certificates()));
        return all;
    }

    /** Closes what this generation owns and {@code stillUsed} does not hold (a later generation took it over). */
    void free(Set<Object> stillUsed) {
        released.set(true);
        for (ServiceGeneration s : services.values()) {
            s.free(stillUsed);
        }
        closeUnlessUsed(tracing, stillUsed); // after the services: their last spans are flushed
    }

    /**
     * What a service's upstream pool depends on besides its event loops: a pool built with equal
     * settings is the same pool.
     */
    record PoolSettings(int connectTimeoutMs, int maxIdlePerUpstream, int idleTimeoutMs, int maxResponseHeadBytes) {
        static PoolSettings of(ServiceConfig s) {
            var http = s.http();
            return new PoolSettings(http.connectTimeoutMs(), http.poolMaxIdlePerUpstream(), http.poolIdleTimeoutMs(), http.maxRequestHeaderBytes() * 4);
        }
    }

    /** Whether the services' upstreams (connectors, load balancing, routes, DNS servers) are configured equally. */
    static boolean sameUpstreams(ServiceConfig a, List<String> dnsA, ServiceConfig b, List<String> dnsB) {
        return a.handler().equals(b.handler()) && dnsA.equals(dnsB) && isProxy(a.handler());
    }

    static boolean isProxy(ServiceHandler handler) {
        return handler instanceof ServiceHandler.Proxy || handler instanceof ServiceHandler.Routed;
    }

    /** Closes a resource of this generation unless a later one still uses it. */
    static void closeUnlessUsed(Object resource, Set<Object> stillUsed) {
        if (resource == null || stillUsed.contains(resource)) {
            return;
        }
        try {
            if (resource instanceof UpstreamWiring w) {
                w.close();
            } else if (resource instanceof ConnectionPool p) {
                p.closeIdle();
            } else if (resource instanceof RateLimitModule r) {
                r.close();
            } else if (resource instanceof EventLoopGroup g) {
                g.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            } else if (resource instanceof river.observe.Tracing t) {
                t.close();
            }
        } catch (Exception e) {
            LOG.debug("closing {} failed", resource, e);
        }
    }

    @Override
    public String toString() {
        return "generation " + number;
    }
}
