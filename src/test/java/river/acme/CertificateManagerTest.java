package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.toolbox.JSON;
import river.config.AcmeConfig.Renewal;
import river.testsupport.LogCapture;

/** Scheduling by River 0.8's rules with a hand-moved clock: first orders, renewal by either rule, hourly looks, backoff. */
class CertificateManagerTest {
    private static final List<String> NAMES = List.of("example.com", "www.example.com");
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(T0);
    private final Installs installs = new Installs();

    /** The certificates the fake CA hands out (90 days from the clock's now unless told), or failures queued by the test. */
    private class FakeCa implements CertificateManager.Issuer {
        final Deque<Exception> failures = new ArrayDeque<>();
        final AtomicInteger orders = new AtomicInteger();
        final List<Instant> issuedAt = new ArrayList<>();
        Duration lifetime = DAY.multipliedBy(90);

        @Override
        public StoredCertificate issue(List<String> names) throws Exception {
            orders.incrementAndGet();
            Exception e = failures.poll();
            if (e != null) {
                throw e;
            }
            Instant now = clock.instant();
            issuedAt.add(now);
            return TestCertificates.issue(names, now, now.plus(lifetime), now);
        }
    }

    /** Let's Encrypt's {@code shortlived} profile: 160 hours. */
    private static final Duration SHORTLIVED = Duration.ofHours(160);

    static final class Installs implements CertificateInstaller {
        final List<X509Certificate> leaves = new ArrayList<>();

        @Override
        public synchronized void install(List<String> names, PrivateKey key, List<X509Certificate> chain) {
            leaves.add(chain.get(0));
        }

        @Override
        public void addAlpnChallenge(String name, PrivateKey key, X509Certificate challengeCertificate) {}

        @Override
        public void removeAlpnChallenge(String name) {}
    }

    private CertificateManager manager(CertificateManager.Issuer ca, Renewal rule) throws Exception {
        return new CertificateManager(AcmeStore.open(tmp), ca, installs, rule, clock, new Random(7));
    }

    @Test
    void aMissingCertificateIsOrderedAtOnceThenLookedAtHourly() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(30));
        m.manage(NAMES);
        assertThat(m.hasCertificate(NAMES)).isFalse();
        assertThat(m.nextAttempt(NAMES)).contains(T0);
        Instant next = m.runDue();
        assertThat(ca.orders).hasValue(1);
        assertThat(m.hasCertificate(NAMES)).isTrue();
        assertThat(installs.leaves).hasSize(1);
        assertThat(AcmeStore.open(tmp).certificate(NAMES)).isPresent();
        assertThat(next).isBetween(T0.plus(Duration.ofHours(1)), T0.plus(Duration.ofMinutes(65)));
        // Looking again before the next check does nothing; at the check, nothing is due yet.
        assertThat(m.runDue()).isEqualTo(next);
        clock.set(next);
        m.runDue();
        assertThat(ca.orders).hasValue(1);
    }

    @Test
    void aStoredCertificateIsServedAtOnceWithoutAnOrder() throws Exception {
        AcmeStore.open(tmp).save(TestCertificates.issue(NAMES, T0.minus(DAY), T0.plus(DAY.multipliedBy(89)), T0.minus(DAY)));
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(30));
        List<List<String>> installed = new ArrayList<>();
        m.onInstalled(installed::add);
        m.manage(NAMES);
        assertThat(m.hasCertificate(NAMES)).isTrue();
        assertThat(installed).containsExactly(NAMES);
        m.runDue();
        assertThat(ca.orders).hasValue(0);
    }

    @Test
    void renewsTheConfiguredDaysBeforeExpiry() throws Exception {
        AcmeStore.open(tmp).save(TestCertificates.issue(NAMES, T0, T0.plus(DAY.multipliedBy(40)), T0));
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(30));
        m.manage(NAMES);
        Instant due = T0.plus(DAY.multipliedBy(10));
        runHourlyUntil(m, due.minusSeconds(1));
        assertThat(ca.orders).hasValue(0);
        runHourlyUntil(m, due.plus(Duration.ofMinutes(66)));
        assertThat(ca.orders).hasValue(1);
        assertThat(m.current(NAMES).orElseThrow().notAfter()).isAfter(T0.plus(DAY.multipliedBy(99)));
    }

    @Test
    void withoutARuleACertificateOf90DaysOrMoreIsRenewedThirtyDaysBeforeExpiry() throws Exception {
        AcmeStore.open(tmp).save(TestCertificates.issue(NAMES, T0, T0.plus(DAY.multipliedBy(120)), T0));
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.Default());
        m.manage(NAMES);
        Instant due = T0.plus(DAY.multipliedBy(90)); // River 0.8's 30 days, not a third of 120
        clock.set(due.minusSeconds(1));
        assertThat(m.runDue()).as("the next look, at the due time").isEqualTo(due);
        assertThat(ca.orders).hasValue(0);
        clock.set(due);
        m.runDue();
        assertThat(ca.orders).hasValue(1);
    }

    @Test
    void withoutARuleASixDayCertificateIsRenewedWithAThirdOfItsLifetimeLeftNotHourly() throws Exception {
        FakeCa ca = new FakeCa();
        ca.lifetime = SHORTLIVED;
        CertificateManager m = manager(ca, new Renewal.Default());
        m.manage(NAMES);
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            runHourlyUntil(m, T0.plus(DAY.multipliedBy(14)));
            assertThat(log.lines()).noneMatch(l -> l.contains("as soon as it is issued"));
        }
        // 336 hours: the first order, then a renewal each 106 h 40 min (the hourly look adds up to 65 minutes).
        assertThat(ca.issuedAt).hasSize(4);
        for (int i = 1; i < ca.issuedAt.size(); i++) {
            Instant previousExpiry = ca.issuedAt.get(i - 1).plus(SHORTLIVED);
            assertThat(Duration.between(ca.issuedAt.get(i), previousExpiry)).as("left of the certificate renewed")
                    .isBetween(SHORTLIVED.dividedBy(3).minus(Duration.ofMinutes(65)), SHORTLIVED.dividedBy(3));
        }
    }

    @Test
    void renewAfterIssueDaysPastACertificatesExpiryRenewsItWithAThirdOfItsLifetimeLeft() throws Exception {
        FakeCa ca = new FakeCa();
        ca.lifetime = SHORTLIVED;
        CertificateManager m = manager(ca, new Renewal.AfterIssue(60));
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.manage(NAMES);
            runHourlyUntil(m, T0.plus(SHORTLIVED).minus(Duration.ofHours(1)));
            assertThat(log.lines()).filteredOn(l -> l.contains("before renew-after-issue-days falls")).singleElement()
                    .satisfies(l -> assertThat(l).contains("a lifetime of PT160H", "at " + T0.plus(SHORTLIVED.multipliedBy(2).dividedBy(3))));
        }
        assertThat(ca.issuedAt).hasSize(2);
        assertThat(ca.issuedAt.get(1)).isBetween(T0.plus(SHORTLIVED.multipliedBy(2).dividedBy(3)),
                T0.plus(SHORTLIVED.multipliedBy(2).dividedBy(3)).plus(Duration.ofMinutes(65)));
    }

    @Test
    void orRenewsDaysAfterIssue() throws Exception {
        AcmeStore.open(tmp).save(TestCertificates.issue(NAMES, T0, T0.plus(DAY.multipliedBy(90)), T0));
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.AfterIssue(60));
        m.manage(NAMES);
        runHourlyUntil(m, T0.plus(DAY.multipliedBy(60)).minusSeconds(1));
        assertThat(ca.orders).hasValue(0);
        runHourlyUntil(m, T0.plus(DAY.multipliedBy(60)).plus(Duration.ofMinutes(66)));
        assertThat(ca.orders).hasValue(1);
    }

    @Test
    void failuresBackOffExponentiallyAndKeepTheOldCertificate() throws Exception {
        StoredCertificate old = TestCertificates.issue(NAMES, T0.minus(DAY.multipliedBy(70)), T0.plus(DAY.multipliedBy(20)), T0.minus(DAY.multipliedBy(70)));
        AcmeStore.open(tmp).save(old);
        FakeCa ca = new FakeCa();
        for (int i = 0; i < 12; i++) {
            ca.failures.add(new AcmeException("connection refused"));
        }
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(30));
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.manage(NAMES);
            List<Duration> gaps = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Instant before = clock.instant();
                m.runDue();
                assertThat(m.failures(NAMES)).isEqualTo(i + 1);
                Instant next = m.nextAttempt(NAMES).orElseThrow();
                gaps.add(Duration.between(before, next));
                clock.set(next);
            }
            assertThat(gaps).containsExactly(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(4), Duration.ofMinutes(8),
                    Duration.ofMinutes(16), Duration.ofMinutes(32), Duration.ofMinutes(64), Duration.ofMinutes(128), Duration.ofMinutes(256),
                    Duration.ofHours(6), Duration.ofHours(6), Duration.ofHours(6));
            assertThat(installs.leaves).containsExactly(old.leaf());
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("order for [example.com, www.example.com] failed (attempt 3 in a row",
                    "the current certificate stays in service", "connection refused"));
            m.runDue();
            assertThat(m.failures(NAMES)).isZero();
            assertThat(installs.leaves).hasSize(2);
        }
    }

    @Test
    void aRateLimitedOrderWaitsForTheCasRetryAfter() throws Exception {
        FakeCa ca = new FakeCa();
        Problem problem = new Problem(JSON.parse("{\"type\": \"urn:ietf:params:acme:error:rateLimited\", \"detail\": \"too many certificates\"}"),
                new java.net.URL("https://ca.test/acme/new-order"));
        ca.failures.add(new AcmeRateLimitedException(problem, T0.plus(Duration.ofHours(3)), List.of()));
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(30));
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            m.manage(NAMES);
            m.runDue();
            assertThat(m.nextAttempt(NAMES)).contains(T0.plus(Duration.ofHours(3)));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("too many certificates", "rateLimited"));
        }
    }

    @Test
    void aWindowLongerThanTheLifetimeRenewsHourlyNotInALoop() throws Exception {
        FakeCa ca = new FakeCa();
        CertificateManager m = manager(ca, new Renewal.BeforeExpiry(100));
        m.manage(NAMES);
        Instant next = m.runDue();
        assertThat(ca.orders).hasValue(1);
        assertThat(next).isAfterOrEqualTo(T0.plus(Duration.ofHours(1)));
        assertThat(m.runDue()).isEqualTo(next);
        assertThat(ca.orders).hasValue(1);
    }

    @Test
    void aSecondProcessWaitsForTheLockThenFindsTheCertificate() throws Exception {
        CountDownLatch ordering = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FakeCa slow = new FakeCa() {
            @Override
            public StoredCertificate issue(List<String> names) throws Exception {
                ordering.countDown();
                release.await(30, TimeUnit.SECONDS);
                return super.issue(names);
            }
        };
        FakeCa second = new FakeCa();
        CertificateManager first = manager(slow, new Renewal.BeforeExpiry(30));
        CertificateManager other = manager(second, new Renewal.BeforeExpiry(30));
        first.manage(NAMES);
        other.manage(NAMES);
        CompletableFuture<Instant> a = CompletableFuture.supplyAsync(first::runDue);
        assertThat(ordering.await(30, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Instant> b = CompletableFuture.supplyAsync(other::runDue);
        release.countDown();
        a.get(30, TimeUnit.SECONDS);
        b.get(30, TimeUnit.SECONDS);
        assertThat(slow.orders).hasValue(1);
        assertThat(second.orders).hasValue(0);
        assertThat(other.current(NAMES).orElseThrow().leaf()).isEqualTo(first.current(NAMES).orElseThrow().leaf());
    }

    /** Runs every due look, moving the clock to each next one, until {@code end}. */
    private void runHourlyUntil(CertificateManager m, Instant end) {
        Instant next = m.runDue();
        for (int runs = 0; !next.isAfter(end); runs++) {
            assertThat(runs).as("runs before " + end).isLessThan(10_000);
            clock.set(next);
            next = m.runDue();
        }
        clock.set(end);
        m.runDue();
    }
}
