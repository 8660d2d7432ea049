package river.service;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import river.balance.UpstreamGroup;
import river.discovery.Discovery;
import river.discovery.DnsSource;
import river.discovery.PeerFactory;
import river.health.CheckSpec;
import river.health.HealthChecker;
import river.upstream.ConnectionPool;
import river.config.ConnectorConfig;
import river.config.LoadBalanceConfig;
import river.config.ServiceHandler;
import river.upstream.Peer;
import river.upstream.UpstreamTls;

/**
 * Turns connectors blocks into upstream groups: the selection algorithm, the peers of literal
 * addresses, the DNS discovery of the others and the active health checks. One per service; it owns
 * the discovery and checking it starts.
 */
final class UpstreamWiring implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamWiring.class);

    private final String service;
    private final io.netty.channel.EventLoopGroup loops;
    private final river.server.Transport transport;
    private final List<String> dnsServers;
    /** TLS client contexts by CA file, verification and offered protocols: one per distinct combination. */
    private final Map<String, SslContext> clientContexts = new HashMap<>();
    private final List<UpstreamGroup> groups = new ArrayList<>();
    private final List<Discovery> discoveries = new ArrayList<>();
    private final Map<UpstreamGroup, HealthChecker> checkers = new HashMap<>();
    /** The group each discovery keeps current, and its first lookups once started (for readiness). */
    private final Map<Discovery, UpstreamGroup> discovered = new HashMap<>();
    private final Map<UpstreamGroup, io.netty.util.concurrent.Future<Void>> firstLookups = new java.util.concurrent.ConcurrentHashMap<>();
    private DnsNameResolver resolver;
    /** The event loop the resolver and discovery run on. */
    private io.netty.channel.EventLoop resolverLoop;
    private ConnectionPool pool;
    private SslContext defaultCheckTls;
    /** TLS client contexts built so far; read by tests to see that none is built after wiring. */
    private int contextsBuilt;

    UpstreamWiring(String service, io.netty.channel.EventLoopGroup loops, river.server.Transport transport, List<String> dnsServers) {
        this.service = service;
        this.loops = loops;
        this.transport = transport;
        this.dnsServers = dnsServers;
    }

    List<UpstreamGroup> groups() {
        return List.copyOf(groups);
    }

    /** The pool whose connections to removed servers are closed when discovery changes a set. */
    void pool(ConnectionPool pool) {
        this.pool = pool;
    }

    static UpstreamGroup.Selection selection(LoadBalanceConfig.Selection s) {
        return s.accept(SELECTION);
    }

    private static final LoadBalanceConfig.Selection.Visitor<UpstreamGroup.Selection> SELECTION = new LoadBalanceConfig.Selection.Visitor<>() {
        @Override
        public UpstreamGroup.Selection roundRobin(LoadBalanceConfig.Selection.RoundRobin s) {
            return UpstreamGroup.Selection.roundRobin();
        }

        @Override
        public UpstreamGroup.Selection random(LoadBalanceConfig.Selection.Random s) {
            return UpstreamGroup.Selection.random();
        }

        @Override
        public UpstreamGroup.Selection fnv(LoadBalanceConfig.Selection.Fnv s) {
            return UpstreamGroup.Selection.fnv(key(s.key()));
        }

        @Override
        public UpstreamGroup.Selection ketama(LoadBalanceConfig.Selection.Ketama s) {
            return UpstreamGroup.Selection.ketama(key(s.key()));
        }
    };

    private static UpstreamGroup.KeyKind key(LoadBalanceConfig.HashKey key) {
        return key == LoadBalanceConfig.HashKey.URI_PATH ? UpstreamGroup.KeyKind.URI_PATH : UpstreamGroup.KeyKind.SOURCE_ADDR_AND_URI_PATH;
    }

    /**
     * A group over the block's literal addresses; its {@code dns}/{@code srv} entries and health
     * checks are set up to start with {@link #start}.
     */
    UpstreamGroup group(String name, ServiceHandler.Proxy proxy) throws IOException {
        LoadBalanceConfig lb = proxy.loadBalance();
        CheckSpec spec = lb.healthCheck().accept(CHECK);
        boolean checked = spec != null;
        List<Peer> literal = staticPeers(proxy.connectors());
        UpstreamGroup group = new UpstreamGroup(name, selection(lb.selection()), literal, checked);
        groups.add(group);
        List<DnsSource> sources = new ArrayList<>();
        for (ConnectorConfig c : proxy.connectors()) {
            int min = c.refresh().minSeconds() > 0 ? c.refresh().minSeconds() : lb.refreshBounds().minSeconds();
            int max = c.refresh().maxSeconds() > 0 ? c.refresh().maxSeconds() : Math.max(min, lb.refreshBounds().maxSeconds());
            DnsLookup lookup = c.source().accept(LOOKUP);
            if (lookup != null) {
                sources.add(new DnsSource(lookup.srv(), lookup.name(), lookup.port(), c.refresh().fixedSeconds(), min, max, peerFactory(c)));
            }
        }
        if (!sources.isEmpty()) {
            DnsNameResolver dns = resolver();
            Discovery discovery = new Discovery(service, group, literal, sources, dns, resolverLoop, this::serversChanged);
            discoveries.add(discovery);
            discovered.put(discovery, group);
        }
        if (spec != null && spec.tlsSni() != null && defaultCheckTls == null) {
            // Built here, not on the checker's event loop: it reads the system's trust store.
            defaultCheckTls = buildContext(null, true, UpstreamTls.Offer.HTTP1_ONLY);
        }
        if (spec != null) {
            checkers.put(group, new HealthChecker(group, spec, loops.next(), transport.clientChannel(), this::checkTls));
        }
        return group;
    }

    /** What the active checks of a group do, or null for none. */
    private static final LoadBalanceConfig.HealthCheck.Visitor<CheckSpec> CHECK = new LoadBalanceConfig.HealthCheck.Visitor<>() {
        @Override
        public CheckSpec none(LoadBalanceConfig.HealthCheck.None check) {
            return null;
        }

        @Override
        public CheckSpec tcp(LoadBalanceConfig.HealthCheck.Tcp tcp) {
            LoadBalanceConfig.Schedule s = tcp.schedule();
            return CheckSpec.tcp(tcp.tlsSni().orElse(null), s.frequencyMs(), s.timeoutMs(), s.consecutiveFailure(), s.consecutiveSuccess(), s.parallel());
        }

        @Override
        public CheckSpec http(LoadBalanceConfig.HealthCheck.Http http) {
            LoadBalanceConfig.Schedule s = http.schedule();
            return CheckSpec.http(http.host(), http.path(), http.tls(), http.expectStatus(), http.port().orElse(0), http.reuseConnection(),
                    s.frequencyMs(), s.timeoutMs(), s.consecutiveFailure(), s.consecutiveSuccess(), s.parallel());
        }
    };

    /** Where discovery looks a connector's servers up: A/AAAA records of a name on a port, or SRV records. */
    private record DnsLookup(boolean srv, String name, int port) {}

    /** The lookup of a connector's source, or null for a literal address (one of the {@link #staticPeers}). */
    private static final ConnectorConfig.Source.Visitor<DnsLookup> LOOKUP = new ConnectorConfig.Source.Visitor<>() {
        @Override
        public DnsLookup address(ConnectorConfig.Source.Address a) {
            return null;
        }

        @Override
        public DnsLookup dns(ConnectorConfig.Source.Dns dns) {
            return new DnsLookup(false, dns.hostname(), dns.port());
        }

        @Override
        public DnsLookup srv(ConnectorConfig.Source.Srv srv) {
            return new DnsLookup(true, srv.name(), 0);
        }
    };

    /** Checks speak TLS as the traffic does: with the peer's own context, or the verifying default built at wiring. */
    private SslContext checkTls(Peer peer) {
        return peer.tls() != null ? peer.tls().http1Context() : defaultCheckTls;
    }

    private DnsNameResolver resolver() {
        if (resolver == null) {
            resolverLoop = loops.next();
            DnsNameResolverBuilder builder = new DnsNameResolverBuilder(resolverLoop)
                    .datagramChannelType(transport.datagramChannel())
                    .resolveCache(NoopDnsCache.INSTANCE)
                    .cnameCache(NoopDnsCnameCache.INSTANCE)
                    .searchDomains(List.of())
                    .ndots(1)
                    .queryTimeoutMillis(2_000);
            if (!dnsServers.isEmpty()) {
                List<InetSocketAddress> servers = new ArrayList<>();
                for (String s : dnsServers) {
                    int colon = s.lastIndexOf(':');
                    String host = s.substring(0, colon).replace("[", "").replace("]", "");
                    servers.add(new InetSocketAddress(io.netty.util.NetUtil.createInetAddressFromIpAddressString(host), Integer.parseInt(s.substring(colon + 1))));
                }
                builder.nameServerProvider(new SequentialDnsServerAddressStreamProvider(servers));
            }
            resolver = builder.build();
        }
        return resolver;
    }

    /** After discovery changed a group: close connections to servers no group has any more, and check the new ones now. */
    private void serversChanged(UpstreamGroup changed) {
        if (pool != null) {
            Set<String> live = new HashSet<>();
            for (UpstreamGroup g : groups) {
                g.peers().forEach(p -> live.add(p.label()));
            }
            pool.retainOnly(live);
        }
        HealthChecker checker = checkers.get(changed);
        if (checker != null) {
            checker.checkNow();
        }
    }

    /**
     * Starts discovery and health checks, and waits (up to {@code maxWaitMs}) for the first lookups
     * and then the first round of checks, so that River does not accept requests before it knows
     * where to send them. A lookup that fails delays nothing further: River starts and keeps trying.
     */
    void start(long maxWaitMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        List<io.netty.util.concurrent.Future<Void>> first = new ArrayList<>();
        for (Discovery d : discoveries) {
            io.netty.util.concurrent.Future<Void> lookups = d.start();
            firstLookups.put(discovered.get(d), lookups);
            first.add(lookups);
        }
        awaitAll(first, deadline);
        first.clear();
        checkers.values().forEach(c -> first.add(c.start()));
        awaitAll(first, deadline);
    }

    private void awaitAll(List<io.netty.util.concurrent.Future<Void>> futures, long deadline) throws InterruptedException {
        for (var f : futures) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !f.await(left, TimeUnit.NANOSECONDS)) {
                LOG.warn("service {}: discovery or health checks did not finish their first round in time; starting anyway", service);
                return;
            }
        }
    }

    /**
     * What readiness still waits for: each group whose DNS discovery has not finished its first lookups,
     * or whose active health checks have not finished their first round.
     */
    List<String> pending() {
        List<String> pending = new ArrayList<>();
        firstLookups.forEach((group, lookups) -> {
            if (!lookups.isDone()) {
                pending.add("upstream group " + group.name() + ": first DNS lookup");
            }
        });
        checkers.forEach((group, checker) -> {
            if (!checker.firstRoundDone()) {
                pending.add("upstream group " + group.name() + ": first health-check round");
            }
        });
        pending.sort(null);
        return pending;
    }

    @Override
    public void close() {
        discoveries.forEach(Discovery::close);
        checkers.values().forEach(HealthChecker::close);
        if (resolver != null) {
            resolver.close();
        }
    }

    /** The peers of the literal-address connectors, duplicates dropped (the first entry's settings win). */
    List<Peer> staticPeers(List<ConnectorConfig> connectors) throws IOException {
        Map<String, Peer> peers = new LinkedHashMap<>();
        for (ConnectorConfig c : connectors) {
            if (c.source() instanceof ConnectorConfig.Source.Address a) {
                byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(a.host());
                Peer p = peer(c, connectorTls(c), InetAddress.getByAddress(ip), a.port(), null, c.weight(), 0);
                peers.putIfAbsent(p.label(), p);
            }
        }
        return new ArrayList<>(peers.values());
    }

    /** The TLS client contexts of one connector entry, built at wiring time: building one reads files. */
    private record ConnectorTls(SslContext context, SslContext http1Context, UpstreamTls.Offer offer) {}

    /** The connector's TLS contexts (shared with entries of the same CA, verification and offer), or null without TLS. */
    private ConnectorTls connectorTls(ConnectorConfig c) throws IOException {
        if (!c.tls()) {
            return null;
        }
        UpstreamTls.Offer offer = switch (c.proto()) {
            case H1_ONLY -> UpstreamTls.Offer.HTTP1_ONLY;
            case H2_ONLY -> UpstreamTls.Offer.HTTP2_ONLY;
            case H2_OR_H1 -> UpstreamTls.Offer.HTTP2_OR_HTTP1;
        };
        return new ConnectorTls(context(c, offer), context(c, UpstreamTls.Offer.HTTP1_ONLY), offer);
    }

    /**
     * What discovery calls, on the resolver's event loop, for each server it finds for {@code c}: the
     * TLS contexts are built now, so a refresh neither blocks the loop on a CA file nor takes a lock.
     */
    PeerFactory peerFactory(ConnectorConfig c) throws IOException {
        ConnectorTls tls = connectorTls(c);
        return (ip, port, found, weight, priority) -> peer(c, tls, ip, port, found, weight < 0 ? c.weight() : weight, priority);
    }

    /**
     * A peer found for connector {@code c}.
     *
     * @param discoveredName the name it was discovered under (SNI with {@code tls=true}), or null
     */
    private static Peer peer(ConnectorConfig c, ConnectorTls connectorTls, InetAddress ip, int port, String discoveredName, int weight,
            int priority) {
        UpstreamTls tls = connectorTls == null ? null : new UpstreamTls(connectorTls.context(), connectorTls.http1Context(),
                connectorTls.offer(), c.tlsSni().orElse(discoveredName), c.tlsVerify());
        ConnectorConfig.Timeouts t = c.timeouts();
        return Peer.of(ip, port, weight, tls, priority, new Peer.PeerTimeouts(t.connectMs(), t.totalConnectMs(), t.readMs(), t.writeMs(), t.idleMs()),
                c.sendProxyProtocol());
    }

    /** Called on the wiring thread only. */
    private SslContext context(ConnectorConfig c, UpstreamTls.Offer offer) throws IOException {
        String key = c.caPath().map(Object::toString).orElse("") + "|" + c.tlsVerify() + "|" + offer;
        SslContext context = clientContexts.get(key);
        if (context == null) {
            context = buildContext(c.caPath().orElse(null), c.tlsVerify(), offer);
            clientContexts.put(key, context);
            if (!c.tlsVerify()) {
                LOG.warn("service {}: the certificates of {} are NOT verified (tls-verify=false)", service, c.address());
            }
        }
        return context;
    }

    private SslContext buildContext(java.nio.file.Path caFile, boolean verify, UpstreamTls.Offer offer) throws IOException {
        contextsBuilt++;
        return UpstreamTls.clientContext(caFile, verify, offer);
    }

    int contextsBuilt() {
        return contextsBuilt;
    }
}
