package river.acme;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.AcmeConfig;

/**
 * Keeps one certificate per distinct set of managed names: serves what the store has at once, orders what is
 * missing or due (under the store's lock, after looking again at the store, which another process may have
 * filled meanwhile), retries failures with a backoff and keeps the old certificate in service while it does.
 *
 * <p>All the work happens in {@link #runDue}, called by one thread ({@link AcmeService}); time is the injected
 * clock's and the jitter the injected generator's, so that the schedule can be tested step by step.
 */
public final class CertificateManager {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateManager.class);

    /** Obtains a new certificate for a set of names (an ACME order); blocking. */
    public interface Issuer {
        StoredCertificate issue(List<String> names) throws Exception;

        /** A certificate replacing {@code previous} (an order naming it in {@code replaces} when the CA knows ARI). */
        default StoredCertificate renew(List<String> names, StoredCertificate previous) throws Exception {
            return issue(names);
        }
    }

    /** Asks the CA for a certificate's renewal information (RFC 9773); blocking, never throws. */
    public interface RenewalInfoSource {
        RenewalInfoAnswer renewalInfo(StoredCertificate certificate);
    }

    private final CertificateStore store;
    private final Issuer issuer;
    private final CertificateInstaller installer;
    private final AcmeConfig.Renewal rule;
    private final Clock clock;
    private final RandomGenerator random;
    private final RenewalInfoSource renewalInfo;
    private final AcmeMetrics metrics;
    private final Map<List<String>, Managed> managed = new LinkedHashMap<>();
    private final List<Consumer<List<String>>> installedListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<List<String>>> failedListeners = new CopyOnWriteArrayList<>();
    /** Set once by {@link #stop}: an order that fails after it was abandoned, not failed. */
    private volatile boolean stopped;

    public CertificateManager(CertificateStore store, Issuer issuer, CertificateInstaller installer, AcmeConfig.Renewal rule, Clock clock,
            RandomGenerator random) {
        this(store, issuer, null, installer, rule, clock, random, AcmeMetrics.unregistered());
    }

    /**
     * With renewal information: each certificate's window is asked for when it is installed and again at each answer's
     * Retry-After, and a certificate with a window is renewed at a time drawn in it instead of by {@code rule}
     * ({@code renewalInfo} null: never asked, {@code rule} only). What happens is counted in {@code metrics}.
     */
    public CertificateManager(CertificateStore store, Issuer issuer, RenewalInfoSource renewalInfo, CertificateInstaller installer,
            AcmeConfig.Renewal rule, Clock clock, RandomGenerator random, AcmeMetrics metrics) {
        this.store = store;
        this.issuer = issuer;
        this.renewalInfo = renewalInfo;
        this.installer = installer;
        this.rule = rule;
        this.clock = clock;
        this.random = random;
        this.metrics = metrics;
        metrics.watch(this::nextOrders);
    }

    /** Called with a set's names each time a certificate for it is installed (from the store or a new order). */
    public void onInstalled(Consumer<List<String>> listener) {
        installedListeners.add(listener);
    }

    /** Called with a set's names each time an order for it fails. */
    public void onFailed(Consumer<List<String>> listener) {
        failedListeners.add(listener);
    }

    /**
     * Manages a set of names (a listener's acme-domains; two listeners with the same set share it): installs the
     * stored certificate at once when there is a usable one, and schedules an order when there is none.
     */
    public synchronized void manage(List<String> names) {
        List<String> key = List.copyOf(names);
        if (managed.containsKey(key)) {
            return;
        }
        Managed m = new Managed(key);
        managed.put(key, m);
        Optional<StoredCertificate> stored = store.certificate(key);
        Instant now = clock.instant();
        if (stored.isPresent()) {
            adopt(m, stored.get(), "from the store");
            m.fromStore = m.current;
            m.nextAttempt = dueAt(m).isAfter(now) ? nextAfterSuccess(m, now) : now;
        } else {
            LOG.info("ACME: no stored certificate for {}; ordering one", key);
            m.nextAttempt = now;
        }
    }

    /** Whether a certificate is installed for this set. */
    public synchronized boolean hasCertificate(List<String> names) {
        Managed m = managed.get(List.copyOf(names));
        return m != null && m.current != null;
    }

    /** The certificate in service for this set, if any. */
    public synchronized Optional<StoredCertificate> current(List<String> names) {
        Managed m = managed.get(List.copyOf(names));
        return m == null ? Optional.empty() : Optional.ofNullable(m.current);
    }

    /** Failed attempts in a row for this set (0 after a success). */
    public synchronized int failures(List<String> names) {
        Managed m = managed.get(List.copyOf(names));
        return m == null ? 0 : m.failures;
    }

    /** When this set is next looked at. */
    public synchronized Optional<Instant> nextAttempt(List<String> names) {
        Managed m = managed.get(List.copyOf(names));
        return m == null ? Optional.empty() : Optional.of(m.nextAttempt);
    }

    /** When each set is next ordered and why then (the metrics' gauge). */
    synchronized Map<List<String>, AcmeMetrics.NextOrder> nextOrders() {
        Map<List<String>, AcmeMetrics.NextOrder> out = new LinkedHashMap<>();
        for (Managed m : managed.values()) {
            if (m.current == null || m.failures > 0) {
                out.put(m.names, new AcmeMetrics.NextOrder(m.nextAttempt, AcmeMetrics.Schedule.RETRY));
            } else {
                out.put(m.names, new AcmeMetrics.NextOrder(dueAt(m), m.renewAt != null ? AcmeMetrics.Schedule.ARI : AcmeMetrics.Schedule.RULE));
            }
        }
        return out;
    }

    /** When the certificate in service for this set is due by its ARI window, if the CA gave one. */
    public synchronized Optional<Instant> renewalFromWindow(List<String> names) {
        Managed m = managed.get(List.copyOf(names));
        return m == null || m.renewAt == null ? Optional.empty() : Optional.of(dueAt(m));
    }

    /**
     * Stops ordering (the ACME client is being replaced by a reload, or the listeners were handed to a new process):
     * nothing more is looked at, and an order in flight that is then interrupted is logged as abandoned, not as a
     * failure to retry.
     */
    public void stop() {
        stopped = true;
    }

    /** Does what is due now (checks, orders, retries) and returns when to call again. */
    public Instant runDue() {
        List<Managed> due = new ArrayList<>();
        synchronized (this) {
            Instant now = clock.instant();
            for (Managed m : managed.values()) {
                if (!now.isBefore(m.nextAttempt)) {
                    due.add(m);
                }
            }
        }
        for (Managed m : due) {
            if (stopped) {
                break;
            }
            look(m);
        }
        synchronized (this) {
            Instant next = clock.instant().plus(RenewalTimes.CHECK_INTERVAL);
            for (Managed m : managed.values()) {
                if (m.nextAttempt.isBefore(next)) {
                    next = m.nextAttempt;
                }
            }
            return next;
        }
    }

    private void look(Managed m) {
        Instant now = clock.instant();
        StoredCertificate current;
        synchronized (this) {
            current = m.current;
        }
        if (current != null) {
            askRenewalInfo(m, current, now);
        }
        Instant due;
        synchronized (this) {
            due = current == null ? now : dueAt(m);
        }
        boolean dueFromBirth;
        synchronized (this) {
            dueFromBirth = current != null && m.renewAt == null && !dueAt(m).isAfter(current.issuedAt());
        }
        if (dueFromBirth && m.lastOrdered != null && now.isBefore(m.lastOrdered.plus(RenewalTimes.CHECK_INTERVAL))) {
            // A lifetime shorter than the renewal window: renewed at each hourly check, not each time River looks
            // (the renewal-information request right after an install would otherwise order again at once).
            synchronized (this) {
                m.nextAttempt = nextAfterSuccess(m, now);
            }
            return;
        }
        if (current != null && now.isBefore(due)) {
            // The hourly look: not due; pick up a newer certificate another process stored meanwhile.
            store.certificate(m.names).filter(s -> s.notAfter().isAfter(current.notAfter()))
                    .ifPresent(s -> adopt(m, s, "renewed by another process"));
            synchronized (this) {
                m.nextAttempt = nextAfterSuccess(m, now);
            }
            return;
        }
        CertificateStore.Lock lock;
        try {
            lock = store.lock();
        } catch (Exception e) {
            failed(m, current != null, e, OrderFailure.LOCK_NOT_TAKEN);
            return;
        }
        try (lock) {
            Optional<StoredCertificate> stored = store.certificate(m.names);
            if (stored.isPresent() && (current == null || stored.get().notAfter().isAfter(current.notAfter()))
                    && clock.instant().isBefore(RenewalTimes.dueAt(rule, stored.get()))) {
                adopt(m, stored.get(), "obtained by another process");
            } else {
                LOG.info("ACME: ordering a certificate for {} ({})", m.names, current == null ? "none yet"
                        : "renewal, the current one expires " + current.notAfter());
                StoredCertificate issued;
                try {
                    issued = current == null ? issuer.issue(m.names) : issuer.renew(m.names, current);
                } catch (Exception e) {
                    metrics.ordered(current != null, false);
                    throw e;
                }
                metrics.ordered(current != null, true);
                m.lastOrdered = clock.instant();
                store.save(issued);
                adopt(m, issued, "newly issued, expires " + issued.notAfter());
            }
            synchronized (this) {
                m.failures = 0;
                m.nextAttempt = nextAfterSuccess(m, clock.instant());
            }
        } catch (Exception e) {
            failed(m, current != null, e, OrderFailure.of(e));
        }
    }

    private void failed(Managed m, boolean renewal, Exception e, OrderFailure kind) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (stopped) {
            LOG.info("ACME: order for {} abandoned, the store lock released (this ACME client is stopping): {}", m.names, describe(e));
            return;
        }
        metrics.failed(kind);
        Instant retryAfter = e instanceof AcmeRateLimitedException limited ? limited.getRetryAfter().orElse(null) : null;
        synchronized (this) {
            m.failures++;
            m.nextAttempt = RenewalTimes.retryAt(clock.instant(), m.failures, retryAfter);
            LOG.warn("ACME: order for {} failed (attempt {} in a row; next attempt at {}){}: {}: {}", m.names, m.failures, m.nextAttempt,
                    m.current == null ? "" : "; the current certificate stays in service until " + m.current.notAfter(), kind.label,
                    describe(e));
        }
        for (Consumer<List<String>> listener : failedListeners) {
            listener.accept(m.names);
        }
    }

    /**
     * RFC 9773: asks for the current certificate's window when it is time (at once for a certificate just installed,
     * then at each answer's Retry-After, backing off after failures), never for an expired certificate. A new window
     * gets a time drawn uniformly in it; the same window again keeps the time drawn. A failure keeps the window the
     * certificate already has; without one, the configured rule applies.
     */
    private void askRenewalInfo(Managed m, StoredCertificate current, Instant now) {
        synchronized (this) {
            if (renewalInfo == null || m.nextRenewalInfo == null || now.isBefore(m.nextRenewalInfo)) {
                return;
            }
            if (!now.isBefore(current.notAfter())) {
                m.nextRenewalInfo = null; // RFC 9773 §4.3: not after the certificate has expired
                return;
            }
        }
        RenewalInfoAnswer answer = renewalInfo.renewalInfo(current);
        synchronized (this) {
            if (m.current != current) {
                return; // replaced meanwhile; the new one is asked for itself
            }
            if (answer instanceof RenewalInfoAnswer.Window w) {
                metrics.renewalInfo(AcmeMetrics.RenewalInfoResult.WINDOW);
                m.renewalInfoFailures = 0;
                m.nextRenewalInfo = RenewalTimes.nextRenewalInfo(now, w.retryAfter());
                if (m.window == null || !m.window.start().equals(w.start()) || !m.window.end().equals(w.end())) {
                    m.renewAt = RenewalTimes.inWindow(w.start(), w.end(), random);
                    Instant due = dueAt(m);
                    LOG.info("ACME: the CA suggests renewing the certificate for {} between {} and {}; {}{}; next asked at {}{}", m.names,
                            w.start(), w.end(), w.end().isAfter(now) ? "renewing at " : "the window is past: renewing ",
                            due.isAfter(now) ? due.toString() : "now", m.nextRenewalInfo,
                            w.retryAfter().isEmpty() ? " (the answer had no Retry-After)" : "");
                }
                m.window = w;
                w.explanationUrl().ifPresent(url -> LOG.warn("ACME: the CA explains the renewal window for {} at {}", m.names, url));
            } else if (answer instanceof RenewalInfoAnswer.Unsupported) {
                metrics.renewalInfo(AcmeMetrics.RenewalInfoResult.UNSUPPORTED);
                m.nextRenewalInfo = now.plus(RenewalTimes.ARI_UNSUPPORTED_RECHECK);
                if (!m.toldUnsupported) {
                    m.toldUnsupported = true;
                    LOG.info("ACME: the CA's directory offers no renewalInfo (RFC 9773): the certificate for {} is renewed by the "
                            + "configured rule, at {}", m.names, dueAt(m));
                }
            } else if (answer instanceof RenewalInfoAnswer.Failed f) {
                metrics.renewalInfo(f.invalid() ? AcmeMetrics.RenewalInfoResult.INVALID : AcmeMetrics.RenewalInfoResult.FAILED);
                m.renewalInfoFailures = f.temporary() ? m.renewalInfoFailures + 1 : 0;
                m.nextRenewalInfo = RenewalTimes.renewalInfoRetryAt(now, f.temporary(), m.renewalInfoFailures);
                if (f.temporary() && m.renewalInfoFailures >= RenewalTimes.ARI_TEMPORARY_TRIES) {
                    m.renewalInfoFailures = 0;
                }
                LOG.warn("ACME: renewal information for {} failed ({}{}); asking again at {}; meanwhile renewing {} at {}", m.names, f.reason(),
                        f.temporary() ? ", temporary" : "", m.nextRenewalInfo, m.window != null ? "in the window the CA gave before" : "by the configured rule",
                        dueAt(m));
            }
        }
    }

    /** When the certificate in service is due: at the time drawn in its ARI window if it has one, else by the rule. */
    private Instant dueAt(Managed m) {
        if (m.renewAt != null) {
            return RenewalTimes.dueByWindow(m.renewAt, m.current);
        }
        Instant due = RenewalTimes.dueAt(rule, m.current);
        if (m.current != m.fromStore && !due.isAfter(m.current.issuedAt())) {
            // Its rule makes it due at issue (renew-before-expiry-days longer than its lifetime, as with a 6-day
            // profile): renewed by its lifetime instead, or each hourly check (each member's, in a fleet) would
            // order another one. Only the certificate found in the store at start keeps the literal rule: it is
            // renewed once, as configured.
            if (!m.warnedWindow) {
                m.warnedWindow = true;
                LOG.warn("ACME: the certificate for {} would be due for renewal as soon as it is issued (its lifetime, {}, is "
                        + "shorter than the renewal window); it is renewed with a third of its lifetime left instead", m.names,
                        lifetime(m.current));
            }
            return RenewalTimes.byLifetime(m.current);
        }
        return due;
    }

    private void adopt(Managed m, StoredCertificate certificate, String how) {
        installer.install(m.names, certificate.key(), certificate.chain());
        synchronized (this) {
            m.current = certificate;
            // A new certificate: its predecessor's window no longer applies; ask for its own at once (RFC 9773 §4.3).
            m.window = null;
            m.renewAt = null;
            m.renewalInfoFailures = 0;
            m.nextRenewalInfo = renewalInfo == null ? null : clock.instant();
        }
        LOG.info("ACME: certificate for {} installed ({}; valid {} to {})", m.names, how, certificate.notBefore(), certificate.notAfter());
        for (Consumer<List<String>> listener : installedListeners) {
            listener.accept(m.names);
        }
    }

    private Instant nextAfterSuccess(Managed m, Instant now) {
        Instant check = RenewalTimes.nextCheck(now, random);
        if (m.nextRenewalInfo != null && m.nextRenewalInfo.isBefore(check)) {
            check = m.nextRenewalInfo.isAfter(now) ? m.nextRenewalInfo : now;
        }
        Instant due = dueAt(m);
        if (!due.isAfter(now) && m.renewAt == null) {
            if (!m.warnedWindow) {
                m.warnedWindow = true;
                LOG.warn("ACME: the certificate for {} is due for renewal as soon as it is issued (its lifetime, {}, is shorter than the "
                        + "renewal window); it is renewed at each hourly check", m.names, lifetime(m.current));
            }
            return check;
        }
        if (m.renewAt == null && !m.warnedExpiry && RenewalTimes.expiresBeforeRule(rule, m.current)) {
            m.warnedExpiry = true;
            LOG.warn("ACME: the certificate for {} expires ({}, a lifetime of {}) before renew-after-issue-days falls; it is renewed "
                    + "once a third of its lifetime remains, at {}", m.names, m.current.notAfter(), lifetime(m.current), due);
        }
        return due.isBefore(check) ? due : check;
    }

    private static Duration lifetime(StoredCertificate certificate) {
        return Duration.between(certificate.notBefore(), certificate.notAfter());
    }

    /** An exception as the log shows it: the CA's problem document when there is one. */
    static String describe(Throwable e) {
        if (e instanceof AcmeServerException server) {
            return server.getProblem().toString() + " (" + server.getType() + ")";
        }
        return e.toString() + (e.getCause() != null && e.getCause() != e ? ", caused by " + e.getCause() : "");
    }

    private static final class Managed {
        final List<String> names;
        StoredCertificate current;
        Instant nextAttempt;
        int failures;
        boolean warnedWindow;
        /** Whether the log said that renew-after-issue-days falls after a certificate's expiry (so it is renewed by its lifetime). */
        boolean warnedExpiry;
        /** The CA's last valid window for {@link #current}, the time drawn in it, when to ask again (null: never). */
        RenewalInfoAnswer.Window window;
        Instant renewAt;
        Instant nextRenewalInfo;
        int renewalInfoFailures;
        boolean toldUnsupported;
        /** When this manager last ordered the set (null: not yet), for the hourly pace of a certificate due from birth. */
        Instant lastOrdered;
        /** The certificate the store held when the set was first managed (null: none). */
        StoredCertificate fromStore;

        Managed(List<String> names) {
            this.names = names;
        }
    }
}
