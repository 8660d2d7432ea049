package river.service;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.balance.UpstreamGroup;
import river.config.HttpSettings;
import river.config.ListenerConfig;
import river.config.PathControlConfig;
import river.config.RequestGuards;
import river.config.RouteConfig;
import river.config.ServiceConfig;
import river.config.ServiceHandler;
import river.config.SystemConfig;
import river.http.ConnectionLimits;
import river.http.Http1ServerInitializer;
import river.http.Http1Settings;
import river.modules.clientip.ClientIpModule;
import river.modules.files.FileServerModule;
import river.modules.filters.PathControlModule;
import river.modules.normalize.NormalizationModule;
import river.modules.overload.OverloadModule;
import river.modules.ratelimit.RateLimitModule;
import river.modules.routing.Route;
import river.modules.routing.RoutingModule;
import river.observe.AccessLog;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;
import river.server.AcceptFilter;
import river.server.ConnectionLimiter;
import river.server.ServerTls;
import river.server.Transport;
import river.upstream.ConnectionPool;

/**
 * One service as one generation runs it: its engine and modules, its upstream groups and pool, its
 * accept-time filters and limits, and how each of its listeners sets up a connection. The event loops
 * belong to the service for as long as it exists: a generation that keeps the service takes them over.
 */
final class ServiceGeneration {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceGeneration.class);
    /** How long a service waits for its first DNS lookups and health checks before accepting anyway. */
    private static final long STARTUP_DISCOVERY_WAIT_MS = 10_000;

    private final ServiceConfig config;
    private final List<String> dnsServers;
    private final EventLoopGroup group;
    private final int threads;
    private final ConnectionPool pool;
    private final UpstreamWiring wiring;
    private final RateLimitModule rateLimits;
    private final AcceptFilter acceptFilter;
    private final ConnectionLimiter limiter;
    /** The ticket keys and cache settings of every TLS listener of the service; kept by a reload while the settings are. */
    private final river.server.SessionResumption sessions;
    private final Map<Generation.ListenerKey, ListenerPlan> listeners;
    /** The service's WebAssembly plugins (also among its engine's modules), for their metrics and retirement. */
    private final List<river.modules.wasm.WasmPlugin> plugins;

    private ServiceGeneration(ServiceConfig config, List<String> dnsServers, EventLoopGroup group, int threads, ConnectionPool pool,
            UpstreamWiring wiring, RateLimitModule rateLimits, AcceptFilter acceptFilter, ConnectionLimiter limiter,
            river.server.SessionResumption sessions, Map<Generation.ListenerKey, ListenerPlan> listeners,
            List<river.modules.wasm.WasmPlugin> plugins) {
        this.plugins = plugins;
        this.config = config;
        this.dnsServers = dnsServers;
        this.group = group;
        this.threads = threads;
        this.pool = pool;
        this.wiring = wiring;
        this.rateLimits = rateLimits;
        this.acceptFilter = acceptFilter;
        this.limiter = limiter;
        this.sessions = sessions;
        this.listeners = listeners;
    }

    /**
     * Builds the service, reusing from {@code before} (the same service in the previous generation, or
     * null) its event loops, and each of pool, upstream groups, limiter, rate limiter and TLS session
     * ticket keys whose configuration is unchanged. On failure, closes only what it built.
     */
    static ServiceGeneration build(ServiceConfig service, SystemConfig system, ServiceGeneration before, Transport transport, Executor blocking,
            river.observe.Metrics metrics, river.server.ManagedCertificates managed, river.observe.Tracing tracing,
            river.observe.AccessLogWriter accessLog,
            java.util.function.Function<String, java.util.concurrent.CompletionStage<String>> acmeChallenges)
            throws IOException, InterruptedException {
        EventLoopGroup group;
        int threads;
        if (before != null) {
            // The listening sockets and pools live on these loops: a changed thread count applies to
            // services added later and to the next upgrade or restart, never by closing a listener.
            group = before.group;
            threads = before.threads;
            if (threads != system.threadsPerService()) {
                LOG.warn("service {}: threads-per-service {} is not applied by a reload; it keeps its {} thread(s) until an upgrade or restart",
                        service.name(), system.threadsPerService(), threads);
            }
        } else {
            group = transport.newGroup(system.threadsPerService(), service.name());
            threads = system.threadsPerService();
        }
        ConnectionPool pool = null;
        UpstreamWiring wiring = null;
        RateLimitModule rateLimits = null;
        List<ServerTls> tlsBuilt = new ArrayList<>();
        List<ProxyModule> modules = new ArrayList<>();
        try {
            HttpSettings http = service.http();
            river.upstream.PeerSelector selector = null;
            RequestGuards guards = service.guards();
            ServiceHandler handler = service.handler();
            if (acmeChallenges != null) {
                // first of all: an HTTP-01 validation is answered before any guard, filter or limit can refuse it
                modules.add(new river.modules.acme.AcmeChallengeModule(acmeChallenges));
            }
            if (tracing != null) {
                modules.add(tracing.module(routePaths(handler))); // first: it sees every request, and the response head the client gets
            }
            RiverServer.withHeaderCount(guards.overload(), guards.limits().maxRequestHeaders()).ifPresent(o -> modules.add(new OverloadModule(o)));
            if (guards.normalization().any()) {
                modules.add(new NormalizationModule(guards.normalization()));
            }
            guards.clientIp().ifPresent(c -> modules.add(new ClientIpModule(c)));
            // Java 17 cannot switch exhaustively over a sealed type: the last branch refuses a kind added
            // without a branch here, and ServiceHandlerKindsTest starts a service of every kind.
            if (handler instanceof ServiceHandler.Proxy || handler instanceof ServiceHandler.Routed) {
                PathControlConfig pathControl = RiverServer.withBodyLimit(service.pathControl(), guards.limits().maxRequestBodyBytes());
                if (PathControlModule.isNeeded(pathControl)) {
                    modules.add(new PathControlModule(pathControl));
                }
                if (!service.rateLimits().isEmpty()) {
                    if (before != null && before.rateLimits != null && before.config.rateLimits().equals(service.rateLimits())
                            && before.config.guards().redis().equals(guards.redis())) {
                        rateLimits = before.rateLimits; // its buckets keep their tokens across the reload
                    } else {
                        rateLimits = new RateLimitModule(service.rateLimits(), guards.redis());
                        rateLimits.awaitReady(2_000);
                    }
                    modules.add(rateLimits);
                }
                boolean samePool = before != null && before.pool != null
                        && Generation.PoolSettings.of(before.config).equals(Generation.PoolSettings.of(service));
                pool = samePool ? before.pool : new ConnectionPool(group, transport.clientChannel(), http.connectTimeoutMs(),
                        http.poolMaxIdlePerUpstream(), http.poolIdleTimeoutMs(), http.maxRequestHeaderBytes() * 4);
                boolean sameWiring = samePool && before.wiring != null
                        && Generation.sameUpstreams(before.config, before.dnsServers, service, system.dnsServers());
                List<UpstreamGroup> groups;
                if (sameWiring) {
                    // Same connectors, balancing and routes: the groups, their discovery and health keep running.
                    wiring = before.wiring;
                    groups = wiring.groups();
                } else {
                    wiring = new UpstreamWiring(service.name(), group, transport, system.dnsServers());
                    groups = new ArrayList<>();
                    if (handler instanceof ServiceHandler.Proxy proxy) {
                        groups.add(wiring.group(service.name(), proxy));
                    } else {
                        for (RouteConfig r : ((ServiceHandler.Routed) handler).routes()) {
                            groups.add(wiring.group(service.name() + " route " + r.path(), r.upstream()));
                        }
                    }
                    wiring.pool(pool);
                    wiring.start(STARTUP_DISCOVERY_WAIT_MS);
                }
                if (handler instanceof ServiceHandler.Proxy) {
                    selector = groups.get(0);
                } else {
                    ServiceHandler.Routed routed = (ServiceHandler.Routed) handler;
                    List<Route> routes = new ArrayList<>();
                    for (int i = 0; i < routed.routes().size(); i++) {
                        routes.add(Route.of(routed.routes().get(i), groups.get(i)));
                    }
                    modules.add(new RoutingModule(routes, routed.noRouteStatus(), routed.noRouteBody()));
                }
                addPlugins(modules, service, pool); // after routing: a plugin sees the route that claimed the request
            } else if (handler instanceof ServiceHandler.FileServer files) {
                addPlugins(modules, service, null);
                modules.add(new FileServerModule(files, blocking));
            } else {
                throw new IllegalStateException("unhandled kind of service handler: " + handler);
            }
            if (system.observability().admin().recording()) {
                modules.add(new river.observe.RequestMetrics(metrics.service(service.name(), routePaths(handler))));
            }
            if (system.accessLog() && accessLog != null) {
                modules.add(new AccessLog(LogWiring.format(system.observability().logs().access()), accessLog));
            }
            long clientWriteMs = guards.overload().map(o -> (long) o.writeTimeoutMs()).orElse(0L);
            long minSendRate = guards.overload().map(o -> (long) o.minSendRateBytes()).orElse(0L);
            ProxyEngine engine = new ProxyEngine(service.name(), modules, selector, pool,
                    new EngineSettings(http.upstreamResponseTimeoutMs(), http.bodyIdleTimeoutMs(), http.tunnelIdleTimeoutMs(), clientWriteMs, minSendRate),
                    river.proxy.NanoClock.SYSTEM, compression(service.compression()));
            int headerTimeoutMs = http.requestHeaderTimeoutMs();
            if (guards.overload().isPresent()) {
                RequestGuards.Overload o = guards.overload().get();
                if (o.readTimeoutMs() > 0) {
                    headerTimeoutMs = Math.min(headerTimeoutMs, o.readTimeoutMs());
                }
            }
            Http1Settings h1 = new Http1Settings(headerTimeoutMs, http.keepaliveIdleTimeoutMs(),
                    http.maxRequestLineBytes(), http.maxRequestHeaderBytes(),
                    new ConnectionLimits(guards.limits().maxConcurrentStreams(), guards.limits().maxPipelinedRequests()));
            AcceptFilter acceptFilter = AcceptFilter.of(guards.connectionFilters());
            ConnectionLimiter limiter = before != null && before.config.guards().limits().equals(guards.limits())
                    ? before.limiter : ConnectionLimiter.of(service.name(), guards.limits()).reclaimingIdle(river.http.ConnectionDrain::reclaimIfIdle);
            river.server.SessionResumption sessions = before != null && before.sessions.settings().equals(service.tlsSessions())
                    ? before.sessions : river.server.SessionResumption.of(service.tlsSessions());
            Map<Generation.ListenerKey, ListenerPlan> plans = new LinkedHashMap<>();
            for (Map.Entry<Generation.ListenerKey, ListenerConfig> keyed : Generation.ListenerKey.of(service).entrySet()) {
                ListenerConfig listener = keyed.getValue();
                ServerTls tls = listener.tls().isPresent()
                        ? new ServerTls(listener.tls().get(), listener.address().toString(), listener.offerH2(), managed, listener.acmeDomains(), sessions)
                        : null;
                if (tls != null) {
                    tlsBuilt.add(tls);
                }
                plans.put(keyed.getKey(), new ListenerPlan(listener, tls, engine, h1, new Http1ServerInitializer(engine, h1, tls != null),
                        http.tlsHandshakeTimeoutMs()));
            }
            List<river.modules.wasm.WasmPlugin> plugins = plugins(modules);
            for (river.modules.wasm.WasmPlugin plugin : plugins) {
                plugin.instantiate(group); // each loop's VM now, on that loop, before the generation serves (docs/wasm.md)
            }
            return new ServiceGeneration(service, system.dnsServers(), group, threads, pool, wiring, rateLimits, acceptFilter, limiter, sessions,
                    plans, plugins);
        } catch (IOException | InterruptedException | RuntimeException e) {
            plugins(modules).forEach(river.modules.wasm.WasmPlugin::retire); // VMs made already tick no more
            if (wiring != null && (before == null || wiring != before.wiring)) {
                wiring.close();
            }
            if (pool != null && (before == null || pool != before.pool)) {
                pool.closeIdle();
            }
            if (rateLimits != null && (before == null || rateLimits != before.rateLimits)) {
                rateLimits.close();
            }
            if (before == null) {
                group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            throw new IOException("service " + service.name() + ": " + e.getMessage(), e);
        }
    }

    private static List<river.modules.wasm.WasmPlugin> plugins(List<ProxyModule> modules) {
        return modules.stream().filter(m -> m instanceof river.modules.wasm.WasmPlugin).map(m -> (river.modules.wasm.WasmPlugin) m).toList();
    }

    /** The service's WebAssembly plugins, in their configured order, each compiled once for this generation (docs/wasm.md). */
    private static void addPlugins(List<ProxyModule> modules, ServiceConfig service, ConnectionPool pool) throws IOException {
        for (river.config.PluginConfig plugin : service.plugins()) {
            modules.add(river.modules.wasm.WasmPlugin.load(plugin, routePaths(service.handler()), pool));
        }
    }

    /** The configured paths of a routed service's routes, by index ({@code RequestContext.route()}); empty for other services. */
    private static List<String> routePaths(ServiceHandler handler) {
        return handler instanceof ServiceHandler.Routed routed ? routed.routes().stream().map(RouteConfig::path).toList() : List.of();
    }

    /** How one listener of this generation sets up an accepted connection. */
    record ListenerPlan(ListenerConfig listener, ServerTls tls, ProxyEngine engine, Http1Settings h1, Http1ServerInitializer http1,
            int tlsHandshakeTimeoutMs) {
        void initPipeline(Channel ch) {
            if (listener.proxyProtocol()) {
                ch.pipeline().addLast("proxy-protocol", new io.netty.handler.codec.haproxy.HAProxyMessageDecoder());
                ch.pipeline().addLast("proxy-header", new river.http.ClientAddress.ProxyHeaderReader());
            }
            if (tls != null) {
                ch.pipeline().addLast(ServerTls.TLS_HANDLER, tls.newHandler(ch.alloc(), tlsHandshakeTimeoutMs));
                ch.pipeline().addLast(ServerTls.OUTCOME_HANDLER, tls.newOutcomeCounter());
                ch.pipeline().addLast(new river.http.ProtocolSelector(engine, http1, h1));
            } else if (listener.h2c()) {
                ch.pipeline().addLast(new river.http.PriorKnowledgeDetector(engine, http1, h1));
            } else {
                ch.pipeline().addLast(http1);
            }
        }
    }

    /**
     * Admits a connection accepted on {@code address} (connection filters, then limits) and holds it in
     * {@code connections} with {@code tenancy} until it closes: false when it was refused and closed.
     */
    boolean admit(Channel ch, ListenerPlan plan, river.server.ClientConnections connections, river.server.ClientConnections.Tenancy tenancy) {
        if (acceptFilter != null && !acceptFilter.admits(ch.remoteAddress())) {
            // Refused before any TLS or HTTP work is done for it.
            acceptFilter.countRefused();
            ch.config().setOption(io.netty.channel.ChannelOption.SO_LINGER, 0);
            ch.close();
            return false;
        }
        return limiter.admit(ch, !plan.listener().proxyProtocol(), connections, tenancy);
    }

    ListenerPlan listener(Generation.ListenerKey key) {
        return listeners.get(key);
    }

    /** How each listener sets up a connection, in configuration order. */
    Map<Generation.ListenerKey, ListenerPlan> listenerPlans() {
        return java.util.Collections.unmodifiableMap(listeners);
    }

    String name() {
        return config.name();
    }

    ServiceConfig config() {
        return config;
    }

    EventLoopGroup group() {
        return group;
    }

    ConnectionPool pool() {
        return pool;
    }

    UpstreamWiring wiring() {
        return wiring;
    }

    RateLimitModule rateLimits() {
        return rateLimits;
    }

    AcceptFilter acceptFilter() {
        return acceptFilter;
    }

    /** The service's TLS session resumption, shared with the generations before it while its settings stay. */
    river.server.SessionResumption sessions() {
        return sessions;
    }

    ConnectionLimiter limiter() {
        return limiter;
    }

    List<ServerTls> certificates() {
        List<ServerTls> all = new ArrayList<>();
        for (ListenerPlan p : listeners.values()) {
            if (p.tls() != null) {
                all.add(p.tls());
            }
        }
        return all;
    }

    void addResources(Set<Object> into) {
        into.add(group);
        if (pool != null) {
            into.add(pool);
        }
        if (wiring != null) {
            into.add(wiring);
        }
        if (rateLimits != null) {
            into.add(rateLimits);
        }
        into.add(limiter);
    }

    /** Stops and closes, in dependency order, what no later generation uses. */
    List<river.modules.wasm.WasmPlugin> plugins() {
        return plugins;
    }

    /** The generation stops serving new connections: its plugins stop ticking; requests in flight finish on their VMs. */
    void retirePlugins() {
        plugins.forEach(river.modules.wasm.WasmPlugin::retire);
    }

    void free(Set<Object> stillUsed) {
        retirePlugins();
        if (wiring != null && !stillUsed.contains(wiring) && stillUsed.contains(pool)) {
            // The pool lives on with other upstream groups: this generation's discovery must no longer prune it.
            wiring.pool(null);
        }
        Generation.closeUnlessUsed(wiring, stillUsed);
        Generation.closeUnlessUsed(pool, stillUsed);
        Generation.closeUnlessUsed(rateLimits, stillUsed);
        Generation.closeUnlessUsed(group, stillUsed);
    }

    /** The engine's view of a service's compression configuration. */
    private static river.proxy.Compression compression(river.config.CompressionConfig c) {
        return new river.proxy.Compression(c.enabled(), c.algorithms(), c.minSize(), c.types(), c.gzipLevel(), c.brotliLevel(), c.zstdLevel());
    }
}
