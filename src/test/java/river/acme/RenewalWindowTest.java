package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.AcmeConfig.Renewal;
import river.testsupport.LogCapture;
import river.testsupport.Scrape;

/**
 * Renewal by the CA's ARI window (RFC 9773) with a hand-moved clock and a fake CA: the time drawn in the window, the
 * window in the past, Retry-After and its limits, failures falling back to the configured rule, and the new order
 * naming the certificate it replaces.
 */
class RenewalWindowTest {
    private static final List<String> NAMES = List.of("example.com", "www.example.com");
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(T0);
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final AcmeMetrics metrics = new AcmeMetrics(registry);

    /** Hands out 90-day certificates from the clock's now; records which certificate each renewal replaced. */
    private final class FakeCa implements CertificateManager.Issuer, CertificateManager.RenewalInfoSource {
        final Deque<RenewalInfoAnswer> answers = new ArrayDeque<>();
        RenewalInfoAnswer always;
        final List<Instant> asked = new ArrayList<>();
        final List<X509Certificate> askedFor = new ArrayList<>();
        final List<X509Certificate> replaced = new ArrayList<>();
        int firstOrders;

        @Override
        public StoredCertificate issue(List<String> names) throws Exception {
            firstOrders++;
            Instant now = clock.instant();
            return TestCertificates.issue(names, now, now.plus(DAY.multipliedBy(90)), now);
        }

        @Override
        public StoredCertificate renew(List<String> names, StoredCertificate previous) throws Exception {
            replaced.add(previous.leaf());
            Instant now = clock.instant();
            return TestCertificates.issue(names, now, now.plus(DAY.multipliedBy(90)), now);
        }

        @Override
        public RenewalInfoAnswer renewalInfo(StoredCertificate certificate) {
            asked.add(clock.instant());
            askedFor.add(certificate.leaf());
            RenewalInfoAnswer a = answers.poll();
            return a != null ? a : always != null ? always : new RenewalInfoAnswer.Unsupported();
        }
    }

    private static final class NoInstalls implements CertificateInstaller {
        @Override
        public void install(List<String> names, PrivateKey key, List<X509Certificate> chain) {}

        @Override
        public void addAlpnChallenge(String name, PrivateKey key, X509Certificate challengeCertificate) {}

        @Override
        public void removeAlpnChallenge(String name) {}
    }

    private CertificateManager manager(FakeCa ca) throws Exception {
        return new CertificateManager(AcmeStore.open(tmp), ca, ca, new NoInstalls(), new Renewal.BeforeExpiry(30), clock, new Random(7), metrics);
    }

    private static RenewalInfoAnswer.Window window(Instant start, Instant end, Instant retryAfter) {
        return new RenewalInfoAnswer.Window(start, end, Optional.empty(), Optional.ofNullable(retryAfter));
    }

    /** Runs whatever falls due until {@code until}, moving the clock to each next attempt; at most 5,000 runs. */
    private void runUntil(CertificateManager m, Instant until) {
        for (int i = 0; i < 5000; i++) {
            Instant next = m.runDue();
            if (next.isAfter(until)) {
                clock.set(until);
                return;
            }
            clock.set(next.isAfter(clock.instant()) ? next : clock.instant());
        }
        throw new AssertionError("more than 5,000 runs before " + until);
    }

    @Test
    void aCertificateDueFromBirthIsRenewedByItsLifetimeNotAtEachHourlyCheck() throws Exception {
        FakeCa ca = new FakeCa(); // answers Unsupported, as Pebble does
        CertificateManager m = new CertificateManager(AcmeStore.open(tmp), ca, ca, new NoInstalls(), new Renewal.BeforeExpiry(100_000), clock,
                new Random(7), metrics);
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.manage(NAMES);
            m.runDue(); // the first certificate, which the rule would make due as soon as issued
            assertThat(ca.firstOrders).isEqualTo(1);
            for (int i = 0; i < 5; i++) {
                m.runDue(); // the renewal-information request right after the install, at the same instant
            }
            assertThat(ca.asked).containsExactly(T0);
            StoredCertificate first = m.current(NAMES).orElseThrow();
            Instant byLifetime = RenewalTimes.byLifetime(first);
            runUntil(m, T0.plus(Duration.ofHours(5)));
            assertThat(ca.replaced).as("not one order per hourly check (a CA's duplicate-certificate limit)").isEmpty();
            assertThat(log.count("it is renewed with a third of its lifetime left instead")).isEqualTo(1);
            runUntil(m, byLifetime.plus(Duration.ofHours(2)));
            assertThat(ca.replaced).as("renewed once, with a third of its lifetime left").hasSize(1);
        }
    }

    @Test
    void aWindowAheadIsRenewedAtATimeDrawnInItAndAskedForAgainAtRetryAfter() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca);
        m.manage(NAMES);
        m.runDue(); // the first certificate (no ARI for it yet: nothing to ask about)
        StoredCertificate first = m.current(NAMES).orElseThrow();
        Instant start = T0.plus(DAY.multipliedBy(70));
        Instant end = start.plus(DAY.multipliedBy(2));
        ca.answers.add(window(start, end, T0.plus(Duration.ofHours(6))));
        ca.always = window(start, end, null);
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.runDue(); // asked at once after issuance
            assertThat(ca.asked).containsExactly(T0);
            Instant at = m.renewalFromWindow(NAMES).orElseThrow();
            assertThat(at).isBetween(start, end);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("suggests renewing the certificate for " + NAMES, start.toString(),
                    end.toString(), "renewing at " + at));
            // The rule (30 days before expiry, day 60) does not apply: the window does.
            runUntil(m, T0.plus(DAY.multipliedBy(65)));
            assertThat(ca.replaced).isEmpty();
            // Asked again at the Retry-After (6 h), then every 6 h (answers without Retry-After); the same window keeps its time.
            assertThat(ca.asked.get(1)).isEqualTo(T0.plus(Duration.ofHours(6)));
            assertThat(ca.asked.get(2)).isEqualTo(T0.plus(Duration.ofHours(12)));
            assertThat(m.renewalFromWindow(NAMES)).contains(at);
            Scrape before = Scrape.of(registry);
            assertThat(before.sum("river_acme_next_order_timestamp_seconds", "name", "example.com", "schedule", "ari"))
                    .isEqualTo(at.toEpochMilli() / 1000.0);
            runUntil(m, at);
            m.runDue();
            assertThat(ca.replaced).containsExactly(first.leaf());
        }
        // The new certificate is asked about at once, not its predecessor.
        Instant renewedAt = clock.instant();
        m.runDue();
        assertThat(ca.asked.get(ca.asked.size() - 1)).isEqualTo(renewedAt);
        assertThat(ca.askedFor.get(ca.askedFor.size() - 1)).isEqualTo(m.current(NAMES).orElseThrow().leaf());
        Scrape after = Scrape.of(registry);
        assertThat(after.sum("river_acme_orders_total", "order", "first", "result", "issued")).isEqualTo(1);
        assertThat(after.sum("river_acme_orders_total", "order", "renewal", "result", "issued")).isEqualTo(1);
        assertThat(after.sum("river_acme_renewal_info_requests_total", "result", "window")).isEqualTo(ca.asked.size());
    }

    @Test
    void aWindowAlreadyPastRenewsAtOnceButNeverInALoop() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca);
        m.manage(NAMES);
        m.runDue();
        StoredCertificate first = m.current(NAMES).orElseThrow();
        // Its window is past (a CA asking for early renewal, as before a mass revocation); not the first hour after issue though.
        clock.advance(Duration.ofHours(2));
        ca.always = window(T0.minus(DAY.multipliedBy(2)), T0.minus(DAY), T0.plus(Duration.ofDays(5)));
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.runDue();
            assertThat(ca.replaced).containsExactly(first.leaf());
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("the window is past: renewing now"));
        }
        // The CA keeps answering a past window for the new certificate: it is renewed once its first hour is over, not before.
        Instant renewed = clock.instant();
        for (int i = 0; i < 5; i++) {
            Instant next = m.runDue();
            assertThat(ca.replaced).hasSize(1);
            assertThat(next).isAfter(clock.instant());
            clock.set(next.isBefore(renewed.plus(Duration.ofMinutes(59))) ? next : renewed.plus(Duration.ofMinutes(59)));
        }
        clock.set(renewed.plus(RenewalTimes.MIN_AGE_FOR_ARI_RENEWAL));
        m.runDue();
        assertThat(ca.replaced).hasSize(2);
    }

    @Test
    void failuresFallBackToTheConfiguredRuleAndBackOff() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca);
        m.manage(NAMES);
        m.runDue();
        StoredCertificate first = m.current(NAMES).orElseThrow();
        Instant byRule = first.notAfter().minus(DAY.multipliedBy(30));
        for (int i = 0; i < 5; i++) {
            ca.answers.add(new RenewalInfoAnswer.Failed(true, false, "HTTP 503"));
        }
        ca.answers.add(new RenewalInfoAnswer.Failed(false, false, "HTTP 404"));
        ca.answers.add(new RenewalInfoAnswer.Failed(false, true, "a window that ends before it starts"));
        ca.always = new RenewalInfoAnswer.Unsupported();
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            runUntil(m, T0.plus(Duration.ofDays(3)));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("renewal information for " + NAMES + " failed (HTTP 503, temporary)",
                    "meanwhile renewing by the configured rule at " + byRule));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("offers no renewalInfo", "configured rule, at " + byRule));
        }
        List<Duration> gaps = new ArrayList<>();
        for (int i = 1; i < ca.asked.size(); i++) {
            gaps.add(Duration.between(ca.asked.get(i - 1), ca.asked.get(i)));
        }
        // 503s: 1, 2, 4, 8 minutes, then the fifth counts as long-term (6 h); the 404 and the invalid answer 6 h each;
        // then no renewalInfo in the directory: asked again daily.
        assertThat(gaps).startsWith(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(4), Duration.ofMinutes(8),
                Duration.ofHours(6), Duration.ofHours(6), Duration.ofHours(6), DAY, DAY);
        assertThat(m.renewalFromWindow(NAMES)).isEmpty();
        assertThat(m.nextOrders().get(NAMES)).isEqualTo(new AcmeMetrics.NextOrder(byRule, AcmeMetrics.Schedule.RULE));
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "failed")).isEqualTo(6);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "invalid")).isEqualTo(1);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "unsupported")).isEqualTo(ca.asked.size() - 7);
        // By the rule, then.
        runUntil(m, byRule);
        m.runDue();
        assertThat(ca.replaced).containsExactly(first.leaf());
    }

    @Test
    void aFailureKeepsTheWindowTheCertificateAlreadyHas() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca);
        m.manage(NAMES);
        m.runDue();
        Instant start = T0.plus(DAY.multipliedBy(40));
        ca.answers.add(window(start, start.plus(DAY), T0.plus(Duration.ofHours(1))));
        ca.always = new RenewalInfoAnswer.Failed(true, false, "HTTP 500");
        m.runDue();
        Instant at = m.renewalFromWindow(NAMES).orElseThrow();
        runUntil(m, T0.plus(DAY));
        assertThat(ca.asked).hasSizeGreaterThan(2);
        assertThat(m.renewalFromWindow(NAMES)).contains(at);
    }

    @Test
    void anExpiredCertificateIsNotAskedAbout() throws Exception {
        FakeCa ca = new FakeCa();
        StoredCertificate expired = TestCertificates.issue(NAMES, T0.minus(DAY.multipliedBy(90)), T0.minus(DAY), T0.minus(DAY.multipliedBy(90)));
        AcmeStore.open(tmp).save(expired);
        CertificateManager m = manager(ca);
        m.manage(NAMES);
        m.runDue();
        assertThat(ca.asked).isEmpty();
        assertThat(ca.replaced).containsExactly(expired.leaf());
    }

    @Test
    void theTimeDrawnIsUniformInTheWindow() {
        Instant start = T0;
        Instant end = T0.plus(DAY.multipliedBy(10));
        Random random = new Random(42);
        int[] perDay = new int[10];
        for (int i = 0; i < 10_000; i++) {
            Instant t = RenewalTimes.inWindow(start, end, random);
            assertThat(t).isAfterOrEqualTo(start).isBefore(end);
            perDay[(int) Duration.between(start, t).toDays()]++;
        }
        for (int n : perDay) {
            assertThat(n).isBetween(900, 1100);
        }
    }

    @Test
    void retryAfterIsHeldBetweenAMinuteAndADay() {
        assertThat(RenewalTimes.nextRenewalInfo(T0, Optional.of(T0.plusSeconds(5)))).isEqualTo(T0.plus(Duration.ofMinutes(1)));
        assertThat(RenewalTimes.nextRenewalInfo(T0, Optional.of(T0.plus(Duration.ofHours(3))))).isEqualTo(T0.plus(Duration.ofHours(3)));
        assertThat(RenewalTimes.nextRenewalInfo(T0, Optional.of(T0.plus(Duration.ofDays(7))))).isEqualTo(T0.plus(DAY));
        assertThat(RenewalTimes.nextRenewalInfo(T0, Optional.empty())).isEqualTo(T0.plus(Duration.ofHours(6)));
    }
}
