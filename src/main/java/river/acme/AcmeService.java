package river.acme;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.AcmeConfig;
import river.server.SharedAlpnChallenges;

/**
 * River's ACME client as a running thing: one per process, on a thread of its own ({@code river-acme}, never an
 * event loop), built from the {@code acme} section. Opening it opens the store (refusing to start when it is not
 * writable) and installs every stored certificate before returning; orders then run in the background, driven by
 * {@link CertificateManager#runDue}.
 */
public final class AcmeService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AcmeService.class);
    /** After an unexpected error in a run (a bug, not a failed order: those back off by themselves). */
    private static final Duration AFTER_ERROR = Duration.ofMinutes(1);

    private final AcmeConfig config;
    private static final CompletionStage<String> NOT_FOUND = CompletableFuture.completedFuture(null);

    private final ChallengeBoard board;
    /** Fleet mode's challenges in Redis; null with a store-dir only. */
    private final FleetChallenges fleet;
    private final CertificateManager manager;
    private final Clock clock;
    private final CertificateStore store;
    private final ScheduledExecutorService thread;
    private ScheduledFuture<?> next;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private AcmeService(AcmeConfig config, ChallengeBoard board, CertificateManager manager, Clock clock, CertificateStore store) {
        this.config = config;
        this.store = store;
        this.board = board;
        this.fleet = store instanceof RedisAcmeStore redis ? redis.challenges() : null;
        this.manager = manager;
        this.clock = clock;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "river-acme");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the store (failing when River cannot write there) and installs the stored certificates of {@code nameSets};
     * nothing is ordered until {@link #wake} (once the listeners that answer challenges are bound).
     */
    public static AcmeService open(AcmeConfig config, CertificateInstaller installer, List<List<String>> nameSets) throws IOException {
        return open(config, installer, nameSets, AcmeMetrics.unregistered());
    }

    /** As {@link #open(AcmeConfig, CertificateInstaller, List)}, counting in {@code metrics} (the process's registry). */
    public static AcmeService open(AcmeConfig config, CertificateInstaller installer, List<List<String>> nameSets, AcmeMetrics metrics)
            throws IOException {
        Clock clock = Clock.systemUTC();
        CertificateStore store = CertificateStore.open(config);
        ChallengeBoard board = new ChallengeBoard();
        AcmeClient client = new AcmeClient(config, store, board, installer, d -> Thread.sleep(d.toMillis()), clock);
        CertificateManager manager = new CertificateManager(store, client, client, installer, config.renewal(), clock, new SplittableRandom(),
                metrics);
        AcmeService service = new AcmeService(config, board, manager, clock, store);
        nameSets.forEach(manager::manage);
        LOG.info("ACME: {} certificate(s) managed with {}, store {}", nameSets.size(), config.directory(), store.dir());
        return service;
    }

    public AcmeConfig config() {
        return config;
    }

    /** The HTTP-01 tokens of this River's orders in flight. */
    public ChallengeBoard board() {
        return board;
    }

    /**
     * The key authorization to answer at {@code /.well-known/acme-challenge/<token>}: this River's order's, else (fleet
     * mode) one another member published in Redis; null when neither has it. For the HTTP-01 module and the
     * challenge-listener, on event loops: never blocks, never fails, completes within the fleet lookup's timeout.
     */
    public CompletionStage<String> http01Answer(String token) {
        String mine = board.keyAuthorization(token);
        if (mine != null) {
            return CompletableFuture.completedFuture(mine);
        }
        return fleet == null ? NOT_FOUND : fleet.http01(token);
    }

    /**
     * Fleet mode: the TLS-ALPN-01 challenge another member published for {@code name}, when the name is validated by
     * tls-alpn-01 (this River's own challenges are in the listeners already); null otherwise. As {@link #http01Answer}.
     */
    public CompletionStage<SharedAlpnChallenges.ChallengeCertificate> tlsAlpn01Challenge(String name) {
        if (fleet == null || config.challengeFor(name) != AcmeConfig.Challenge.TLS_ALPN_01) {
            return SharedAlpnChallenges.NOTHING;
        }
        return fleet.tlsAlpn01(name);
    }

    public CertificateManager manager() {
        return manager;
    }

    /** Manages further sets of names (a reload added listeners) and looks at them at once. */
    public void manage(List<List<String>> nameSets) {
        nameSets.forEach(manager::manage);
        wake();
    }

    /** Runs what is due now on the ACME thread. */
    public synchronized void wake() {
        if (next != null) {
            next.cancel(false);
        }
        if (!thread.isShutdown()) {
            next = thread.schedule(this::run, 0, TimeUnit.MILLISECONDS);
        }
    }

    private void run() {
        Instant at;
        try {
            at = manager.runDue();
        } catch (RuntimeException e) {
            LOG.error("ACME: unexpected error; looking again in {}", AFTER_ERROR, e);
            at = clock.instant().plus(AFTER_ERROR);
        }
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        synchronized (this) {
            if (!thread.isShutdown()) {
                next = thread.schedule(this::run, delay, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * Stops ordering and releases the store: an order in flight is interrupted and abandoned (its HTTP calls, its wait
     * for the lock or a DNS hook end; nothing half-written is stored, since a certificate is saved only once issued),
     * and the store's lock (the store-dir's, or the fleet's Redis lease) is released even if the ACME thread is still
     * unwinding, so that the next client (a reload's, or the new process of an upgrade) orders at once. The installed
     * certificates stay in service.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // stopped at a hand-over, then closed with the server
        }
        manager.stop();
        synchronized (this) {
            thread.shutdownNow();
        }
        boolean ended = false;
        try {
            ended = thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close(); // after the ACME thread (or 5 s): the lock, a Redis store's connection and lease renewal
        LOG.info("ACME: client for {} stopped{}; store {} released", config.directory(), ended ? "" : " (its thread still ending)", store.dir());
    }
}
