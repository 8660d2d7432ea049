package river.service;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.ConfigError;
import river.config.ConfigException;
import river.config.FilterConfig;
import river.config.ListenerConfig;
import river.config.PathControlConfig;
import river.config.RequestGuards;
import river.config.RiverConfig;
import river.server.InheritedListeners;
import river.server.ListenerBinding;
import river.server.ServerTls;
import river.server.Transport;

/**
 * Builds and runs every service of a configuration, as River's {@code main.rs} wires its services:
 * one event-loop group of {@code threads-per-service} threads per service, its listeners bound on
 * it, its upstream pool shared by those threads, and its engine composed from modules.
 *
 * <p>What a configuration builds is a {@link Generation}; {@link #reload} builds the next one and
 * swaps it in for new connections. Listening sockets belong to the server, not to a generation: one
 * whose service and address stay is never closed, and its child initializer reads the generation
 * current when a connection is accepted. A connection is served by that generation until it closes.
 */
public final class RiverServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RiverServer.class);

    /** Reads the configuration again (the file River started with, with the same overrides), for {@link #reload(ConfigSource)}. */
    @FunctionalInterface
    public interface ConfigSource {
        RiverConfig load() throws ConfigException;
    }

    /** How long closing what remains may take at shutdown (graceful-shutdown-timeout-seconds). */
    private volatile long closeTimeoutSeconds = river.config.Lifecycle.DEFAULTS.gracefulShutdownTimeoutSeconds();
    /** Listeners handed over to the instance that upgraded this one: never closed here. */
    private final java.util.Set<Channel> handedOver = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Set when River stops accepting (shutdown, upgrade): a reload then changes nothing. */
    private volatile boolean stopped;
    /** Set by {@link #close}: from then on it alone stops what the generations hold. */
    private volatile boolean closed;
    /**
     * The metrics registry, made by {@link #metrics()} on first use: at start when the admin listener is
     * on (so that reload and upgrade counts cover the process's life), never without one (nothing could
     * read it; its classes are about 1 MB of the RSS River starts with). Set once, under {@link #metricsLock}.
     */
    private volatile river.observe.Metrics metrics;
    private final Object metricsLock = new Object();
    /** The ACME certificates and TLS-ALPN-01 challenges, for this server's whole life (across reloads). */
    private final river.server.ManagedCertificates managedCertificates = new river.server.ManagedCertificates();
    /** The ACME client, when the configuration has an acme section: one per process, across reloads. */
    private final AcmeWiring acme = new AcmeWiring(managedCertificates, () -> metrics().registry());
    /** Listeners of services waiting for their first ACME certificate: bound, not accepting yet. */
    private final Set<BoundListener> held = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The access log's writer (null while the access log is off), and the configuration it was made from. */
    private volatile river.observe.AccessLogWriter accessLog;
    private river.config.LogConfig.Access accessLogConfig;
    /** Every client connection admitted and still open, whichever generation serves it. */
    private final river.server.ClientConnections connections = new river.server.ClientConnections();
    private final ThreadPoolExecutor blocking;
    private final Transport transport;
    /** Runs the certificate watch, the end of a retired generation's grace period and its release. */
    private final java.util.concurrent.ScheduledExecutorService certificateWatch;
    /** The generation new connections get. */
    private final AtomicReference<Generation> current = new AtomicReference<>();
    /** Generations no longer current that still serve connections; guarded by {@link #generationLock}. */
    private final List<Generation> retired = new ArrayList<>();
    /** Guards {@link #retired} and the swap of {@link #current}; held briefly, also from event loops. */
    private final Object generationLock = new Object();
    /** Every listening socket, by service and address; changed only under the reload's lock. */
    private final Map<Generation.ListenerKey, BoundListener> listeners = new java.util.concurrent.ConcurrentHashMap<>();
    /** Reloads attempted, and generations built (the first at start); guarded by {@code this}. */
    private int reloads;
    private int generations;
    /** river:type=Runtime (event-loop queues, Netty direct memory); set once every service has started. */
    private volatile river.observe.RuntimeProbe probe;
    /**
     * Whether to register {@link #probe}: with the admin listener on, or -Driver.runtimeProbe=true (the soak
     * sets it). Registering it creates the platform MBean server, about 2 MB of RSS at start.
     */
    private boolean probeWanted;

    /** A listening socket and the generation its next accepted connection is served by. */
    private static final class BoundListener {
        final Generation.ListenerKey key;
        volatile Generation generation;
        Channel channel;

        BoundListener(Generation.ListenerKey key, Generation generation) {
            this.key = key;
            this.generation = generation;
        }
    }

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
        certificateWatch.scheduleWithFixedDelay(() -> certificates().forEach(ServerTls::reloadIfChanged), every, every, TimeUnit.MILLISECONDS);
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
        RiverServer server = prepare(config);
        server.listen(inherited);
        return server;
    }

    /**
     * Builds every service of the configuration (modules, upstream pools, first DNS lookups and health
     * checks) without listening yet: an upgrade does this before it waits for the running instance's
     * sockets, so that the hand-over is not held up by it. On failure, releases what was built.
     */
    public static RiverServer prepare(RiverConfig config) throws IOException, InterruptedException {
        RiverServer server = new RiverServer(Transport.best());
        server.closeTimeoutSeconds = Math.max(1, config.system().lifecycle().gracefulShutdownTimeoutSeconds());
        river.config.AdminConfig admin = config.system().observability().admin();
        server.probeWanted = admin.enabled() || Boolean.getBoolean("river.runtimeProbe");
        if (admin.enabled()) {
            server.metrics();
        }
        if (admin.recording()) {
            server.metrics().exportJvm();
        }
        try {
            server.accessLog = LogWiring.accessLogWriter(config.system());
            server.accessLogConfig = config.system().observability().logs().access();
            server.acme.open(config);
            Generation first = Generation.build(1, config, null, server.transport, server.blocking, server.recordingMetrics(config), server.managedCertificates, server.accessLog,
                    server.acme::keyAuthorization);
            server.generations = 1;
            server.current.set(first);
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Binds every listener of the prepared configuration, adopting the inherited listening socket bound
     * to its address (an upgrade's or systemd's); inherited sockets no listener names are closed (they
     * are copies). On failure, closes everything.
     */
    public void listen(InheritedListeners inherited) throws IOException, InterruptedException {
        Generation first = current.get();
        try {
            for (ServiceGeneration service : first.services()) {
                List<List<String>> awaited = acme.awaitedBy(service.config());
                List<BoundListener> holding = new ArrayList<>();
                for (Map.Entry<Generation.ListenerKey, ListenerConfig> keyed : Generation.ListenerKey.of(service.config()).entrySet()) {
                    BoundListener bound = bind(first, service, keyed.getKey(), keyed.getValue(), inherited, awaited.isEmpty());
                    listeners.put(bound.key, bound);
                    if (awaited.isEmpty()) {
                        service.limiter().listening(bound.channel);
                    } else {
                        holding.add(bound);
                    }
                }
                if (!holding.isEmpty()) {
                    held.addAll(holding);
                    LOG.info("service {}: all its listeners are TLS with acme-domains: not accepting until the ACME certificate(s) for {} "
                            + "are installed", service.name(), awaited);
                    acme.whenCertified(awaited, failed -> release(service, holding, awaited, failed));
                }
            }
            // Orders begin once the listeners that answer challenges are bound; the challenge-listener may be inherited too.
            acme.start(transport, inherited);
            for (InheritedListeners.Inherited unused : inherited.unclaimed()) {
                LOG.info("inherited listener {} is not in the configuration: closed", unused);
            }
            inherited.closeUnclaimed();
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        registerProbe();
    }

    /** A service that waited for its ACME certificates starts accepting: they are installed, or the first attempt failed. */
    private void release(ServiceGeneration service, List<BoundListener> holding, List<List<String>> awaited, boolean failed) {
        for (BoundListener b : holding) {
            held.remove(b);
            if (b.channel.isOpen()) {
                service.limiter().listening(b.channel);
                b.channel.config().setAutoRead(true);
            }
        }
        if (failed) {
            LOG.warn("service {}: no ACME certificate yet for all of {} (the order failed; it is retried): accepting anyway, "
                    + "handshakes for names without a certificate fail until it arrives", service.name(), awaited);
        } else {
            LOG.info("service {}: ACME certificate(s) for {} installed: accepting connections", service.name(), awaited);
        }
    }

    private BoundListener bind(Generation generation, ServiceGeneration service, Generation.ListenerKey key, ListenerConfig listener,
            InheritedListeners inherited) throws IOException, InterruptedException {
        return bind(generation, service, key, listener, inherited, true);
    }

    /** Binds (or adopts) one listener of {@code service}; its connections go to the generation current when each is accepted. */
    private BoundListener bind(Generation generation, ServiceGeneration service, Generation.ListenerKey key, ListenerConfig listener,
            InheritedListeners inherited, boolean accepting) throws IOException, InterruptedException {
        BoundListener bound = new BoundListener(key, generation);
        boolean adopting = inherited.offers(listener.address());
        try {
            bound.channel = ListenerBinding.bind(listener.address(), service.group(), transport, new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    accepted(bound, ch);
                }
            }, inherited, accepting);
        } catch (IOException | RuntimeException e) {
            throw new IOException("service " + service.name() + ": " + e.getMessage(), e);
        }
        ServiceGeneration.ListenerPlan plan = service.listener(key);
        LOG.info("service {} {} {}{}", service.name(), adopting ? "adopted the inherited listener" : "listening on",
                describe(bound.channel, listener.address()),
                plan.tls() == null ? "" : " (TLS by " + plan.tls().implementation() + ")");
        return bound;
    }

    /** A connection accepted on {@code bound}: admitted, counted against its generation, and set up as that generation says. */
    private void accepted(BoundListener bound, Channel ch) {
        // A reload may swap generations between reading one and counting the connection against it,
        // and the old one may be released at that moment: then the next read finds the new one.
        for (int attempt = 0; attempt < 3; attempt++) {
            Generation generation = bound.generation;
            ServiceGeneration service = generation.service(bound.key.service());
            ServiceGeneration.ListenerPlan plan = service == null ? null : service.listener(bound.key);
            if (plan == null) {
                break;
            }
            if (!generation.adopt()) {
                continue;
            }
            if (!service.admit(ch, plan, connections, generation.tenancy(service))) {
                generation.disown();
                return;
            }
            plan.initPipeline(ch);
            return;
        }
        ch.close();
    }

    /**
     * Reads the configuration again and reloads it (see {@link #reload(RiverConfig)}); a configuration
     * that does not validate is reported with its located errors and changes nothing.
     */
    public synchronized ReloadOutcome reload(ConfigSource source) {
        int n = ++reloads;
        long started = System.nanoTime();
        RiverConfig config;
        try {
            config = source.load();
        } catch (ConfigException e) {
            return failed(n, started, e.errors().stream().map(ConfigError::toString).toList());
        }
        return apply(n, started, config);
    }

    /**
     * Builds a new generation from {@code config} and swaps it in for new connections: listeners of the
     * same service and address are kept, new ones bound, removed ones closed (their connections finish
     * on the old generation); the old generation is released once its last connection has ended, or
     * closed after the grace period. When anything fails before the swap, nothing changes and the
     * current generation keeps serving.
     */
    public synchronized ReloadOutcome reload(RiverConfig config) {
        return apply(++reloads, System.nanoTime(), config);
    }

    private ReloadOutcome apply(int n, long started, RiverConfig config) {
        if (stopped) {
            return failed(n, started, List.of("River is stopping (shutdown or upgrade)"));
        }
        Generation old = current.get();
        Generation next;
        river.acme.AcmeService acmeNext = null;
        try {
            acmeNext = acme.prepare(config); // a store River cannot write fails the reload, as it fails a start
            next = Generation.build(generations + 1, config, old, transport, blocking, recordingMetrics(config), managedCertificates, accessLogFor(config), acme::keyAuthorization);
            if (config.system().observability().admin().recording()) {
                metrics().exportJvm();
            }
        } catch (IOException | RuntimeException e) {
            acme.abandon(acmeNext);
            return failed(n, started, List.of(String.valueOf(e.getMessage())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            acme.abandon(acmeNext);
            return failed(n, started, List.of("interrupted while building the new configuration"));
        }
        Map<Generation.ListenerKey, ListenerConfig> wanted = next.listeners();
        List<Generation.ListenerKey> kept = new ArrayList<>();
        List<Generation.ListenerKey> removed = new ArrayList<>();
        for (Generation.ListenerKey key : listeners.keySet()) {
            (wanted.containsKey(key) ? kept : removed).add(key);
        }
        List<BoundListener> added = new ArrayList<>();
        try {
            for (Map.Entry<Generation.ListenerKey, ListenerConfig> e : wanted.entrySet()) {
                if (listeners.containsKey(e.getKey())) {
                    continue;
                }
                // A socket lives on its service's event loops: an address that moves to another service
                // is closed before it is bound again (connections arriving in between are refused).
                for (Generation.ListenerKey gone : removed) {
                    BoundListener b = listeners.get(gone);
                    if (gone.address().equals(e.getKey().address()) && b.channel.isOpen()) {
                        b.channel.close().awaitUninterruptibly();
                    }
                }
                added.add(bind(next, next.service(e.getKey().service()), e.getKey(), e.getValue(), InheritedListeners.none()));
            }
        } catch (IOException | RuntimeException e) {
            added.forEach(b -> b.channel.close().awaitUninterruptibly());
            next.free(old.resources());
            acme.abandon(acmeNext);
            return failed(n, started, List.of(String.valueOf(e.getMessage())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            added.forEach(b -> b.channel.close().awaitUninterruptibly());
            next.free(old.resources());
            acme.abandon(acmeNext);
            return failed(n, started, List.of("interrupted while binding the new listeners"));
        }
        closeTimeoutSeconds = Math.max(1, config.system().lifecycle().gracefulShutdownTimeoutSeconds());
        synchronized (generationLock) {
            generations = next.number();
            current.set(next);
            retired.add(old);
        }
        LogWiring.applyLevels(config.system().observability().logs());
        for (Generation.ListenerKey key : kept) {
            BoundListener b = listeners.get(key);
            b.generation = next;
            handOverLimits(old.service(key.service()), next.service(key.service()), b.channel);
        }
        for (BoundListener b : added) {
            listeners.put(b.key, b);
            next.service(b.key.service()).limiter().listening(b.channel);
        }
        for (Generation.ListenerKey key : removed) {
            BoundListener b = listeners.remove(key);
            b.channel.close().awaitUninterruptibly();
            LOG.info("service {} no longer listening on {}", key.service(), key.address());
        }
        for (ServiceGeneration before : old.services()) {
            ServiceGeneration after = next.service(before.name());
            if (after != null && after.pool() == before.pool() && after.wiring() != before.wiring() && before.wiring() != null) {
                // The pool lives on under new upstream groups: the old groups' discovery must not prune it.
                before.wiring().pool(null);
            }
        }
        if (!old.services().stream().map(ServiceGeneration::group).toList().equals(next.services().stream().map(ServiceGeneration::group).toList())) {
            registerProbe();
        }
        try {
            acme.reloaded(config, acmeNext, transport); // orders begin once the listeners that answer challenges are bound
        } catch (IOException | RuntimeException e) {
            LOG.error("reload {}: the ACME client of the new acme section serves, but: {}", n, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        old.retire(TimeUnit.SECONDS.toMillis(config.system().gracePeriodSeconds()), certificateWatch, connections, g -> {
            try {
                certificateWatch.execute(() -> released(g));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // The server is closing: close() stops what every generation holds.
            }
        });
        int servicesAdded = 0;
        int servicesChanged = 0;
        for (ServiceGeneration s : next.services()) {
            ServiceGeneration before = old.service(s.name());
            if (before == null) {
                servicesAdded++;
            } else if (!before.config().equals(s.config())) {
                servicesChanged++;
            }
        }
        int servicesRemoved = (int) old.services().stream().filter(s -> next.service(s.name()) == null).count();
        ReloadOutcome outcome = new ReloadOutcome(n, true, elapsedMs(started), next.number(), servicesAdded, servicesRemoved, servicesChanged,
                kept.size(), added.size(), removed.size(), List.of());
        countIfMetrics(m -> m.reloaded(true));
        LOG.info("{}", outcome.describe());
        return outcome;
    }

    /** A kept listener whose service got new connection limits: the new limiter pauses and resumes it from now on. */
    private static void handOverLimits(ServiceGeneration before, ServiceGeneration after, Channel listener) {
        if (before.limiter() != after.limiter()) {
            before.limiter().forgetListeners();
            after.limiter().listening(listener);
            listener.config().setAutoRead(true);
        }
    }

    private ReloadOutcome failed(int n, long started, List<String> errors) {
        ReloadOutcome outcome = new ReloadOutcome(n, false, elapsedMs(started), current.get().number(), 0, 0, 0, 0, 0, 0, errors);
        countIfMetrics(m -> m.reloaded(false));
        LOG.error("{}", outcome.describe());
        return outcome;
    }

    private static long elapsedMs(long started) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    }

    /** A retired generation's last connection has ended (or its grace period is over): close what no live generation uses. */
    private void released(Generation g) {
        if (closed) {
            return;
        }
        Set<Object> stillUsed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        synchronized (generationLock) {
            retired.remove(g);
            Generation now = current.get();
            if (now != null) {
                stillUsed.addAll(now.resources());
            }
            retired.forEach(r -> stillUsed.addAll(r.resources()));
        }
        g.free(stillUsed);
        LOG.info("{} released: its last connection has ended", g);
    }

    /** The current generation's tracing, or null when tracing is off (tests). */
    river.observe.Tracing tracing() {
        Generation g = current.get();
        return g == null ? null : g.tracing();
    }

    /** Counts one hand-over of the listeners to an upgraded instance, by whether the new one served. */
    public void countUpgrade(boolean ok) {
        countIfMetrics(m -> m.upgraded(ok));
    }

    /** The process's metrics, exposed by the admin listener; made on the first call. */
    public river.observe.Metrics metrics() {
        river.observe.Metrics m = metrics;
        if (m != null) {
            return m;
        }
        synchronized (metricsLock) {
            if (metrics == null) {
                river.observe.Metrics made = new river.observe.Metrics();
                RuntimeMetrics.register(made.registry(), current::get, connections, () -> {
                    Map<Channel, String> byListener = new java.util.HashMap<>();
                    for (BoundListener b : listeners.values()) {
                        if (b.channel != null) {
                            byListener.put(b.channel, b.key.service());
                        }
                    }
                    return byListener;
                });
                metrics = made;
            }
            return metrics;
        }
    }

    /** Whether the registry has been made (tests: it must not be without an admin listener). */
    boolean metricsMade() {
        return metrics != null;
    }

    /** The registry the generation records requests into, or null when it records none (ServiceGeneration then asks for none). */
    private river.observe.Metrics recordingMetrics(RiverConfig config) {
        return config.system().observability().admin().recording() ? metrics() : null;
    }

    /** Counts a reload or an upgrade where the registry exists: it does from the start whenever anything can read it. */
    private void countIfMetrics(java.util.function.Consumer<river.observe.Metrics> count) {
        river.observe.Metrics m = metrics;
        if (m != null) {
            count.accept(m);
        }
    }

    /**
     * The certificates obtained by ACME and the TLS-ALPN-01 challenges in flight, served by every
     * listener with {@code acme-domains}; one for this server's life, so installed certificates
     * survive reloads.
     */
    public river.server.ManagedCertificates managedCertificates() {
        return managedCertificates;
    }

    /**
     * Whether River is ready for traffic ({@code GET /ready}), and if not, what it waits for: every
     * listener of the current generation bound, every upstream group with active health checks through
     * its first round, every TLS listener with a certificate ({@link ServerTls#certificateReady}); never
     * once River stops accepting (shutdown, upgrade).
     *
     * @param pending what is not ready yet, one short sentence each; empty when ready
     */
    public record Readiness(List<String> pending) {
        public Readiness {
            pending = List.copyOf(pending);
        }

        public boolean ready() {
            return pending.isEmpty();
        }
    }

    /** What readiness waits for now; cheap enough to compute on every {@code GET /ready}. */
    public Readiness readiness() {
        List<String> pending = new ArrayList<>();
        if (stopped) {
            pending.add("River is stopping (shutdown or upgrade): it accepts no new connections");
        }
        Generation g = current.get();
        for (ServiceGeneration s : g.services()) {
            for (Generation.ListenerKey key : Generation.ListenerKey.of(s.config()).keySet()) {
                BoundListener b = listeners.get(key);
                if (b == null || b.channel == null || !b.channel.isOpen()) {
                    pending.add("service " + s.name() + ": listener " + key.address() + " not bound");
                }
            }
            if (s.wiring() != null) {
                s.wiring().pending().forEach(p -> pending.add("service " + s.name() + ": " + p));
            }
            for (Map.Entry<Generation.ListenerKey, ServiceGeneration.ListenerPlan> plan : s.listenerPlans().entrySet()) {
                ServerTls tls = plan.getValue().tls();
                if (tls != null && !tls.certificateReady()) {
                    pending.add("service " + s.name() + ": listener " + plan.getKey().address() + ": no certificate yet");
                }
            }
        }
        for (BoundListener b : held) {
            pending.add("service " + b.key.service() + ": listener " + b.key.address() + " waits for its ACME certificate before accepting");
        }
        return new Readiness(pending);
    }

    /** The ACME client, when the configuration has an acme section. */
    public java.util.Optional<river.acme.AcmeService> acme() {
        return java.util.Optional.ofNullable(acme.service());
    }

    /** Where the acme section's challenge-listener listens, if it has one. */
    public java.util.Optional<java.net.SocketAddress> acmeChallengeListener() {
        return acme.challengeListenerAddress();
    }

    /** The certificate chain ACME installed for these names (empty if none yet). */
    public List<java.security.cert.X509Certificate> acmeCertificate(List<String> names) {
        return acme.installed(names);
    }

    /** The configuration the current generation was built from (what {@code GET /config} shows, redacted). */
    public RiverConfig config() {
        return current.get().config();
    }

    /** The socket implementation, for a listener River runs beside its services (the admin listener). */
    public Transport transport() {
        return transport;
    }

    /** The generation serving new connections (1 at start, one more per successful reload). */
    public int generation() {
        return current.get().number();
    }

    /** Connections served by generations that are no longer current. */
    public int retiredConnections() {
        synchronized (generationLock) {
            return retired.stream().mapToInt(connections::countOf).sum();
        }
    }

    private List<Generation> liveGenerations() {
        synchronized (generationLock) {
            List<Generation> all = new ArrayList<>(retired);
            Generation now = current.get();
            if (now != null) {
                all.add(now);
            }
            return all;
        }
    }

    private List<ServerTls> certificates() {
        List<ServerTls> all = new ArrayList<>();
        liveGenerations().forEach(g -> all.addAll(g.certificates()));
        return all;
    }

    private void registerProbe() {
        if (!probeWanted) {
            return;
        }
        if (probe != null) {
            probe.close();
        }
        probe = river.observe.RuntimeProbe.register(current.get().services().stream().map(ServiceGeneration::group).toList());
    }

    /** The services of the current generation, in configuration order. */
    public List<RunningService> services() {
        Generation g = current.get();
        List<RunningService> all = new ArrayList<>();
        for (ServiceGeneration s : g.services()) {
            List<Channel> channels = new ArrayList<>();
            for (Generation.ListenerKey key : Generation.ListenerKey.of(s.config()).keySet()) {
                BoundListener b = listeners.get(key);
                if (b != null) {
                    channels.add(b.channel);
                }
            }
            all.add(new RunningService(s.name(), s.group(), s.pool(), channels, s.wiring(), s.acceptFilter(), s.limiter()));
        }
        return all;
    }

    /** "epoll" or "nio", for the start-up line; a name rather than the enum so the command line needs no server types. */
    public String transportName() {
        return transport.name().toLowerCase(java.util.Locale.ROOT);
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
        stopped = true;
        for (BoundListener b : listeners.values()) {
            if (b.channel != null && !handedOver.contains(b.channel)) {
                b.channel.close().awaitUninterruptibly();
            }
        }
    }

    /** Every service's listening sockets, in configuration order: what an upgrade hands over. */
    public List<Channel> listeningChannels() {
        List<Channel> channels = new ArrayList<>(services().stream().flatMap(s -> s.listeners().stream()).toList());
        acme.challengeListenerChannel().ifPresent(channels::add);
        return channels;
    }

    /** The TLS session ticket keys of every service using River's own, by name: what an upgrade hands over with the listeners. */
    public Map<String, river.server.SessionResumption.HandedKeys> ticketKeys() {
        Map<String, river.server.SessionResumption.HandedKeys> keys = new java.util.LinkedHashMap<>();
        for (ServiceGeneration service : current.get().services()) {
            service.sessions().handOver().ifPresent(k -> keys.put(service.name(), k));
        }
        return keys;
    }

    /**
     * Takes the ticket keys an upgraded instance handed over, each by the service of the same name, so
     * that its tickets resume here. Returns the services that use River's own keys and have TLS
     * listeners but got none: they go on with the keys made at start.
     */
    public List<String> adoptTicketKeys(Map<String, river.server.SessionResumption.HandedKeys> handed) {
        List<String> without = new ArrayList<>();
        for (ServiceGeneration service : current.get().services()) {
            river.server.SessionResumption sessions = service.sessions();
            river.server.SessionResumption.HandedKeys keys = handed.get(service.name());
            if (keys != null) {
                sessions.adopt(keys);
            } else if (sessions.ownKeys() && !service.certificates().isEmpty()) {
                without.add(service.name());
            }
        }
        return without;
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
        acme.handedOver(adopted); // the store's lock to the new process now, not at the end of the drain
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
        connections.forEach(ch -> {
            long at = spreadMs <= 0 ? 0 : random.nextLong(spreadMs + 1);
            river.http.ConnectionDrain.begin(ch, at, at);
        });
        LOG.info("no longer accepting connections; {} open connection(s), {} with a request in progress",
                connections.size(), busyConnections());
        if (!connections.awaitAllClosed(grace.toMillis())) {
            LOG.info("grace period over: closing {} connection(s), {} with a request in progress", connections.size(), busyConnections());
        }
        close();
    }

    public void shutdownGracefully(Duration grace) {
        shutdownGracefully(grace, Duration.ZERO);
    }

    /** TLS handshakes begun on every listener of the live generations so far. */
    public long tlsHandshakesStarted() {
        return certificates().stream().mapToLong(ServerTls::handshakesStarted).sum();
    }

    /** Client connections with a request, an HTTP/2 stream or an HTTP/2 tunnel in progress. */
    long busyConnections() {
        long busy = 0;
        for (Channel ch : connections) {
            if (river.http.ConnectionDrain.isBusy(ch)) {
                busy++;
            }
        }
        return busy;
    }

    @Override
    public void close() {
        closed = true;
        if (probe != null) {
            probe.close();
        }
        stopAccepting();
        connections.close(null, TimeUnit.SECONDS.toMillis(closeTimeoutSeconds));
        // Generations share what a reload took over: each object is stopped once, users before what they use.
        Set<Object> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<ServiceGeneration> services = new ArrayList<>();
        for (Generation g : liveGenerations()) {
            services.addAll(g.services());
        }
        for (ServiceGeneration s : services) {
            if (s.wiring() != null && seen.add(s.wiring())) {
                s.wiring().close();
            }
        }
        for (ServiceGeneration s : services) {
            if (s.pool() != null && seen.add(s.pool())) {
                s.pool().closeIdle();
            }
        }
        for (ServiceGeneration s : services) {
            if (seen.add(s.group())) {
                s.group().shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(closeTimeoutSeconds, TimeUnit.SECONDS);
            }
        }
        for (ServiceGeneration s : services) {
            if (s.rateLimits() != null && seen.add(s.rateLimits())) {
                s.rateLimits().close();
            }
        }
        for (Generation g : liveGenerations()) {
            if (g.tracing() != null && seen.add(g.tracing())) {
                g.tracing().close(); // the spans of the last requests are exported
            }
        }
        acme.close();
        blocking.shutdownNow();
        certificateWatch.shutdownNow();
        if (accessLog != null) {
            accessLog.close();
        }
    }

    /**
     * The access log's writer for a reloaded configuration: the one River started with (a changed
     * destination or queue size applies at the next restart or upgrade; the format applies now), or a
     * new one if the access log was off until now.
     */
    private river.observe.AccessLogWriter accessLogFor(RiverConfig config) {
        river.config.LogConfig.Access wanted = config.system().observability().logs().access();
        if (!config.system().accessLog()) {
            return accessLog;
        }
        if (accessLog == null) {
            accessLog = LogWiring.accessLogWriter(config.system());
            accessLogConfig = wanted;
        } else if (!wanted.output().equals(accessLogConfig.output()) || wanted.queueLines() != accessLogConfig.queueLines()) {
            LOG.warn("access-log {} (queue {}) is not applied by a reload; the access log keeps going to {} until a restart or upgrade",
                    wanted.output(), wanted.queueLines(), accessLogConfig.output());
        }
        return accessLog;
    }

    /** The access log's writer (lines written and dropped), or null while the access log is off. */
    public river.observe.AccessLogWriter accessLog() {
        return accessLog;
    }
}
