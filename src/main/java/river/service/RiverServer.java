package river.service;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.balance.UpstreamGroup;
import river.config.RouteConfig;
import river.config.HttpSettings;
import river.config.ListenerConfig;
import river.config.RiverConfig;
import river.config.ServiceConfig;
import river.config.ServiceHandler;
import river.http.Http1ServerInitializer;
import river.http.Http1Settings;
import river.modules.files.FileServerModule;
import river.config.RequestGuards;
import river.modules.clientip.ClientIpModule;
import river.modules.filters.PathControlModule;
import river.modules.normalize.NormalizationModule;
import river.modules.overload.OverloadModule;
import river.modules.ratelimit.RateLimitModule;
import river.server.AcceptFilter;
import river.server.ConnectionLimiter;
import river.http.ConnectionLimits;
import river.modules.routing.Route;
import river.modules.routing.RoutingModule;
import river.observe.AccessLog;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;
import river.server.InheritedListeners;
import river.server.ListenerBinding;
import river.server.ServerTls;
import river.server.Transport;
import river.upstream.ConnectionPool;

/**
 * Builds and runs every service of a configuration, as River's {@code main.rs} wires its services:
 * one event-loop group of {@code threads-per-service} threads per service, its listeners bound on
 * it, its upstream pool shared by those threads, and its engine composed from modules.
 */
public final class RiverServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RiverServer.class);
    /** How long a service waits at start for its first DNS lookups and health checks before accepting anyway. */
    private static final long STARTUP_DISCOVERY_WAIT_MS = 10_000;

    private final List<RunningService> services = new ArrayList<>();
    /** How long closing what remains may take at shutdown (graceful-shutdown-timeout-seconds). */
    private volatile long closeTimeoutSeconds = river.config.Lifecycle.DEFAULTS.gracefulShutdownTimeoutSeconds();
    /** Listeners handed over to the instance that upgraded this one: never closed here. */
    private final java.util.Set<Channel> handedOver = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ChannelGroup connections = new DefaultChannelGroup("river-connections", GlobalEventExecutor.INSTANCE);
    private final ThreadPoolExecutor blocking;
    private final Transport transport;
    private final List<ServerTls> certificates = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.ScheduledExecutorService certificateWatch;
    /** What must be closed at shutdown besides event loops (Redis clients). */
    private final List<AutoCloseable> closeables = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** river:type=Runtime (event-loop queues, Netty direct memory); set once every service has started. */
    private river.observe.RuntimeProbe probe;

    private RiverServer(Transport transport) {
        this.transport = transport;
        AtomicInteger n = new AtomicInteger();
        this.blocking = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096), r -> {
            Thread t = new Thread(r, "river-files-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.certificateWatch = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "river-certificate-watch");
            t.setDaemon(true);
            return t;
        });
        long every = Long.getLong("river.certificateCheckMs", 5_000);
        certificateWatch.scheduleWithFixedDelay(() -> certificates.forEach(ServerTls::reloadIfChanged), every, every, TimeUnit.MILLISECONDS);
    }

    /** Starts every service; on any failure, stops what was started and rethrows. */
    public static RiverServer start(RiverConfig config) throws IOException, InterruptedException {
        return start(config, InheritedListeners.none());
    }

    /**
     * Starts every service, adopting the inherited listening socket bound to a listener's address
     * (an upgrade's or systemd's) and binding the others; inherited sockets no listener names are
     * closed (they are copies).
     */
    public static RiverServer start(RiverConfig config, InheritedListeners inherited) throws IOException, InterruptedException {
        RiverServer server = new RiverServer(Transport.best());
        server.closeTimeoutSeconds = Math.max(1, config.system().lifecycle().gracefulShutdownTimeoutSeconds());
        try {
            for (ServiceConfig service : config.services()) {
                server.services.add(server.startService(service, config.system(), inherited));
            }
            for (InheritedListeners.Inherited unused : inherited.unclaimed()) {
                LOG.info("inherited listener {} is not in the configuration: closed", unused);
            }
            inherited.closeUnclaimed();
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        server.probe = river.observe.RuntimeProbe.register(server.services.stream().map(RunningService::group).toList());
        return server;
    }

    public List<RunningService> services() {
        return List.copyOf(services);
    }

    /** "epoll" or "nio", for the start-up line; a name rather than the enum so the command line needs no server types. */
    public String transportName() {
        return transport.name().toLowerCase(java.util.Locale.ROOT);
    }

    private RunningService startService(ServiceConfig service, river.config.SystemConfig system, InheritedListeners inherited) throws IOException, InterruptedException {
        EventLoopGroup group = transport.newGroup(system.threadsPerService(), service.name());
        List<Channel> bound = new ArrayList<>();
        ConnectionPool pool = null;
        UpstreamWiring wiring = null;
        try {
            HttpSettings http = service.http();
            List<ProxyModule> modules = new ArrayList<>();
            river.upstream.PeerSelector selector = null;
            RequestGuards guards = service.guards();
            ServiceHandler handler = service.handler();
            withHeaderCount(guards.overload(), guards.limits().maxRequestHeaders()).ifPresent(o -> modules.add(new OverloadModule(o)));
            if (guards.normalization().any()) {
                modules.add(new NormalizationModule(guards.normalization()));
            }
            guards.clientIp().ifPresent(c -> modules.add(new ClientIpModule(c)));
            // Java 17 cannot switch exhaustively over a sealed type: the last branch refuses a kind added
            // without a branch here, and ServiceHandlerKindsTest starts a service of every kind.
            if (handler instanceof ServiceHandler.Proxy || handler instanceof ServiceHandler.Routed) {
                PathControlConfig pathControl = withBodyLimit(service.pathControl(), guards.limits().maxRequestBodyBytes());
                if (PathControlModule.isNeeded(pathControl)) {
                    modules.add(new PathControlModule(pathControl));
                }
                if (!service.rateLimits().isEmpty()) {
                    RateLimitModule limits = new RateLimitModule(service.rateLimits(), guards.redis());
                    closeables.add(limits);
                    limits.awaitReady(2_000);
                    modules.add(limits);
                }
                wiring = new UpstreamWiring(service.name(), group, transport, system.dnsServers());
                if (handler instanceof ServiceHandler.Proxy proxy) {
                    selector = wiring.group(service.name(), proxy);
                } else {
                    ServiceHandler.Routed routed = (ServiceHandler.Routed) handler;
                    List<Route> routes = new ArrayList<>();
                    for (RouteConfig r : routed.routes()) {
                        UpstreamGroup upstreams = wiring.group(service.name() + " route " + r.path(), r.upstream());
                        routes.add(Route.of(r, upstreams));
                    }
                    modules.add(new RoutingModule(routes, routed.noRouteStatus(), routed.noRouteBody()));
                }
                pool = new ConnectionPool(group, transport.clientChannel(), http.connectTimeoutMs(), http.poolMaxIdlePerUpstream(),
                        http.poolIdleTimeoutMs(), http.maxRequestHeaderBytes() * 4);
                wiring.pool(pool);
                wiring.start(STARTUP_DISCOVERY_WAIT_MS);
            } else if (handler instanceof ServiceHandler.FileServer files) {
                modules.add(new FileServerModule(files.basePath(), blocking));
            } else {
                throw new IllegalStateException("unhandled kind of service handler: " + handler);
            }
            if (system.accessLog()) {
                modules.add(new AccessLog());
            }
            long clientWriteMs = guards.overload().map(o -> (long) o.writeTimeoutMs()).orElse(0L);
            long minSendRate = guards.overload().map(o -> (long) o.minSendRateBytes()).orElse(0L);
            ProxyEngine engine = new ProxyEngine(service.name(), modules, selector, pool,
                    new EngineSettings(http.upstreamResponseTimeoutMs(), http.bodyIdleTimeoutMs(), http.tunnelIdleTimeoutMs(), clientWriteMs, minSendRate));
            int headerTimeoutMs = http.requestHeaderTimeoutMs();
            if (guards.overload().isPresent()) {
                RequestGuards.Overload o = guards.overload().get();
                if (o.readTimeoutMs() > 0) {
                    headerTimeoutMs = Math.min(headerTimeoutMs, o.readTimeoutMs());
                }
            }
            Http1Settings h1 = new Http1Settings(headerTimeoutMs, http.keepaliveIdleTimeoutMs(),
                    http.maxRequestLineBytes(), http.maxRequestHeaderBytes());
            AcceptFilter acceptFilter = AcceptFilter.of(guards.connectionFilters());
            ConnectionLimiter limiter = ConnectionLimiter.of(service.name(), guards.limits());
            ConnectionLimits connectionLimits = new ConnectionLimits(guards.limits().maxConcurrentStreams(), guards.limits().maxPipelinedRequests());
            for (ListenerConfig listener : service.listeners()) {
                ServerTls tls = listener.tls().isPresent()
                        ? new ServerTls(listener.tls().get(), listener.address().toString(), listener.offerH2()) : null;
                if (tls != null) {
                    certificates.add(tls);
                }
                Http1ServerInitializer http1 = new Http1ServerInitializer(engine, h1, tls != null);
                boolean adopting = inherited.offers(listener.address());
                Channel channel = ListenerBinding.bind(listener.address(), group, transport, new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (acceptFilter != null && !acceptFilter.admits(ch.remoteAddress())) {
                            // Refused before any TLS or HTTP work is done for it.
                            acceptFilter.countRefused();
                            ch.config().setOption(io.netty.channel.ChannelOption.SO_LINGER, 0);
                            ch.close();
                            return;
                        }
                        if (!limiter.admit(ch, !listener.proxyProtocol())) {
                            return;
                        }
                        ConnectionLimits.set(ch, connectionLimits);
                        connections.add(ch);
                        if (listener.proxyProtocol()) {
                            ch.pipeline().addLast("proxy-protocol", new io.netty.handler.codec.haproxy.HAProxyMessageDecoder());
                            ch.pipeline().addLast("proxy-header", new river.http.ClientAddress.ProxyHeaderReader());
                        }
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), http.tlsHandshakeTimeoutMs()));
                            ch.pipeline().addLast(new river.http.ProtocolSelector(engine, http1, h1));
                        } else if (listener.h2c()) {
                            ch.pipeline().addLast(new river.http.PriorKnowledgeDetector(engine, http1, h1));
                        } else {
                            ch.pipeline().addLast(http1);
                        }
                    }
                }, inherited);
                bound.add(channel);
                limiter.listening(channel);
                LOG.info("service {} {} {}{}", service.name(), adopting ? "adopted the inherited listener" : "listening on",
                        describe(channel, listener.address()),
                        tls == null ? "" : " (TLS by " + tls.implementation() + ")");
            }
            return new RunningService(service.name(), group, pool, bound, wiring, acceptFilter, limiter);
        } catch (IOException | InterruptedException | RuntimeException e) {
            bound.forEach(Channel::close);
            if (wiring != null) {
                wiring.close();
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("service " + service.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The overload guard with {@code limits max-request-headers} folded in: the stricter count wins.
     * The overload module already answers a head with too many fields 431, on HTTP/1.x and HTTP/2 alike.
     */
    static Optional<RequestGuards.Overload> withHeaderCount(Optional<RequestGuards.Overload> overload, int maxHeaders) {
        if (maxHeaders <= 0) {
            return overload;
        }
        if (overload.isEmpty()) {
            return Optional.of(new RequestGuards.Overload(0, maxHeaders, 0, 0, 0, 0, 0, 503, ""));
        }
        RequestGuards.Overload o = overload.get();
        int headers = o.maxHeaders() > 0 ? Math.min(o.maxHeaders(), maxHeaders) : maxHeaders;
        return Optional.of(new RequestGuards.Overload(o.maxConcurrentRequests(), headers, o.maxHeaderBytes(), o.readTimeoutMs(),
                o.writeTimeoutMs(), o.drainTimeoutMs(), o.minSendRateBytes(), o.status(), o.body()));
    }

    /**
     * Path-control with {@code limits max-request-body-bytes} as its request-body {@code max-size} when
     * that is stricter than the one configured: one place counts bodies, whether they come with a
     * Content-Length (refused before any is read), chunked, or as HTTP/2 DATA frames.
     */
    static PathControlConfig withBodyLimit(PathControlConfig pathControl, long maxBytes) {
        if (maxBytes <= 0) {
            return pathControl;
        }
        List<FilterConfig> body = new ArrayList<>();
        boolean stricter = false;
        for (FilterConfig f : pathControl.requestBody()) {
            if (f instanceof FilterConfig.MaxSize max && max.maxBytes() <= maxBytes) {
                stricter = true;
            }
            if (!(f instanceof FilterConfig.MaxSize max) || max.maxBytes() <= maxBytes) {
                body.add(f);
            }
        }
        if (!stricter) {
            body.add(0, new FilterConfig.MaxSize(maxBytes, 413));
        }
        return new PathControlConfig(pathControl.requestFilters(), pathControl.upstreamRequest(), pathControl.upstreamResponse(),
                pathControl.responseFilters(), body, pathControl.responseBody());
    }

    private static String describe(Channel channel, river.config.ListenAddress configured) {
        Object address = channel.localAddress();
        if (address == null) {
            // An adopted unix socket: Netty knows only addresses it bound itself.
            return configured.toString();
        }
        if (address instanceof java.net.InetSocketAddress inet) {
            String host = inet.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return "unix:" + address;
    }

    /** Stops accepting new connections on every listener (except those handed over: they are the new instance's now). */
    public void stopAccepting() {
        for (RunningService s : services) {
            s.listeners().stream().filter(ch -> !handedOver.contains(ch)).forEach(ch -> ch.close().awaitUninterruptibly());
        }
    }

    /** Every service's listening sockets, in configuration order: what an upgrade hands over. */
    public List<Channel> listeningChannels() {
        return services.stream().flatMap(s -> s.listeners().stream()).toList();
    }

    /**
     * After a hand-over: stops accepting on the listeners the new instance adopted without closing them
     * (the socket is shared with it: closing a unix listener would remove its file), so connections
     * waiting in their queues are the new instance's; closes the listeners it did not adopt.
     */
    public void handOver(java.util.Collection<Channel> adopted) {
        handedOver.addAll(adopted);
        for (Channel ch : adopted) {
            ch.deregister().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        stopAccepting();
    }

    /**
     * Stops accepting, asks every connection to finish what it has in progress and close (HTTP/2
     * GOAWAY; HTTP/1.1 {@code Connection: close} on the response in flight, idle keep-alive connections
     * closed at moments spread over {@code closeSpread}; tunnels run on), waits until the last has
     * closed or {@code grace} is over, then closes everything that remains.
     */
    public void shutdownGracefully(Duration grace, Duration closeSpread) {
        stopAccepting();
        long spreadMs = closeSpread.toMillis();
        java.util.SplittableRandom random = new java.util.SplittableRandom();
        io.netty.channel.group.ChannelGroupFuture allClosed = connections.newCloseFuture();
        connections.forEach(ch -> river.http.ConnectionDrain.begin(ch, spreadMs <= 0 ? 0 : random.nextLong(spreadMs + 1)));
        LOG.info("no longer accepting connections; {} open connection(s), {} with a request in progress",
                connections.size(), busyConnections());
        if (!allClosed.awaitUninterruptibly(grace.toMillis())) {
            LOG.info("grace period over: closing {} connection(s), {} with a request in progress", connections.size(), busyConnections());
        }
        close();
    }

    public void shutdownGracefully(Duration grace) {
        shutdownGracefully(grace, Duration.ZERO);
    }

    /** TLS handshakes begun on every listener so far. */
    public long tlsHandshakesStarted() {
        return certificates.stream().mapToLong(ServerTls::handshakesStarted).sum();
    }

    /** Client connections with a request, an HTTP/2 stream or an HTTP/2 tunnel in progress. */
    long busyConnections() {
        return connections.stream().filter(river.http.ConnectionDrain::isBusy).count();
    }

    @Override
    public void close() {
        if (probe != null) {
            probe.close();
        }
        stopAccepting();
        connections.close().awaitUninterruptibly(closeTimeoutSeconds, TimeUnit.SECONDS);
        for (RunningService s : services) {
            s.stopUpstreamWork();
            if (s.pool() != null) {
                s.pool().closeIdle();
            }
            s.group().shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(closeTimeoutSeconds, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing {} failed", c, e);
            }
        }
        blocking.shutdownNow();
        certificateWatch.shutdownNow();
    }
}
