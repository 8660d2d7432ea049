package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.JSON;
import river.config.AcmeConfig.Renewal;
import river.testsupport.Scrape;

/** What the ACME metrics count: orders by kind and result, failures by kind, the next order per name and its schedule. */
class AcmeMetricsTest {
    private static final List<String> NAMES = List.of("example.com", "www.example.com");
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(T0);
    private final PrometheusRegistry registry = new PrometheusRegistry();

    private static Problem problem(String type) throws Exception {
        return new Problem(JSON.parse("{\"type\":\"urn:ietf:params:acme:error:" + type + "\",\"detail\":\"d\"}"),
                java.net.URI.create("https://ca.example/acme").toURL());
    }

    @Test
    void failuresAreCountedByKind() throws Exception {
        assertThat(OrderFailure.of(new AcmeClient.ChallengeFailed("http-01 challenge for example.com is INVALID", null)))
                .isEqualTo(OrderFailure.CHALLENGE_FAILED);
        assertThat(OrderFailure.of(new AcmeRateLimitedException(problem("rateLimited"), null, List.of()))).isEqualTo(OrderFailure.RATE_LIMITED);
        assertThat(OrderFailure.of(new AcmeNetworkException(new ConnectException("Connection refused")))).isEqualTo(OrderFailure.CA_UNREACHABLE);
        assertThat(OrderFailure.of(new IOException("wrapped", new ConnectException("Connection refused")))).isEqualTo(OrderFailure.CA_UNREACHABLE);
        assertThat(OrderFailure.of(new AcmeServerException(problem("unauthorized")))).isEqualTo(OrderFailure.CA_ERROR);
        assertThat(OrderFailure.of(new OrderFailure.LockLost("lease ran out"))).isEqualTo(OrderFailure.LOCK_NOT_TAKEN);
        assertThat(OrderFailure.of(new IOException("store-dir not writable"))).isEqualTo(OrderFailure.OTHER);
    }

    @Test
    void ordersFailuresAndTheNextOrderAreCounted() throws Exception {
        Deque<Exception> failures = new ArrayDeque<>(List.of(new AcmeNetworkException(new ConnectException("Connection refused")),
                new AcmeClient.ChallengeFailed("http-01 challenge for example.com is INVALID", null),
                new AcmeRateLimitedException(problem("rateLimited"), null, List.of())));
        CertificateManager.Issuer ca = names -> {
            Exception e = failures.poll();
            if (e != null) {
                throw e;
            }
            return TestCertificates.issue(names, clock.instant(), clock.instant().plus(Duration.ofDays(90)), clock.instant());
        };
        CertificateManager m = new CertificateManager(AcmeStore.open(tmp), ca, null, new CertificateManagerTest.Installs(),
                new Renewal.BeforeExpiry(30), clock, new Random(7), new AcmeMetrics(registry));
        m.manage(NAMES);
        m.manage(List.of("example.com")); // a name in two sets: one sample, the sooner
        for (int i = 0; i < 20 && !m.hasCertificate(NAMES); i++) {
            clock.set(m.runDue());
            Scrape s = Scrape.of(registry);
            if (!m.hasCertificate(NAMES)) {
                assertThat(s.sum("river_acme_next_order_timestamp_seconds", "name", "www.example.com", "schedule", "retry"))
                        .isEqualTo(m.nextAttempt(NAMES).orElseThrow().toEpochMilli() / 1000.0);
            }
        }
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_orders_total", "order", "first", "result", "failed")).isEqualTo(3);
        assertThat(s.sum("river_acme_orders_total", "order", "first", "result", "issued")).isEqualTo(2);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "ca_unreachable")).isEqualTo(1);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "challenge_failed")).isEqualTo(1);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "rate_limited")).isEqualTo(1);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "lock_not_taken")).isZero();
        // Every kind is there from the start, at zero: a rate() over it needs no first failure.
        assertThat(s.has("river_acme_order_failures_total", "kind", "other")).isTrue();
        Instant due = m.current(NAMES).orElseThrow().notAfter().minus(Duration.ofDays(30));
        assertThat(s.sum("river_acme_next_order_timestamp_seconds", "name", "www.example.com", "schedule", "rule"))
                .isEqualTo(due.toEpochMilli() / 1000.0);
        assertThat(s.samples().stream().filter(x -> x.name().equals("river_acme_next_order_timestamp_seconds")
                && "example.com".equals(x.labels().get("name")))).hasSize(1);
        assertThat(AcmeMetrics.byName(Map.of(List.of("a", "b"), new AcmeMetrics.NextOrder(T0, AcmeMetrics.Schedule.RULE),
                List.of("b"), new AcmeMetrics.NextOrder(T0.minusSeconds(1), AcmeMetrics.Schedule.RETRY))))
                .containsEntry("b", new AcmeMetrics.NextOrder(T0.minusSeconds(1), AcmeMetrics.Schedule.RETRY))
                .containsEntry("a", new AcmeMetrics.NextOrder(T0, AcmeMetrics.Schedule.RULE));
    }

    @Test
    void aLockNotTakenIsCountedAsSuch() throws Exception {
        AcmeStore local = AcmeStore.open(tmp);
        CertificateStore noLock = new CertificateStore() {
            @Override
            public Path dir() {
                return local.dir();
            }

            @Override
            public Optional<AcmeStore.StoredAccount> account(String directory) {
                return local.account(directory);
            }

            @Override
            public void saveAccount(String directory, KeyPair key, String location) throws IOException {
                local.saveAccount(directory, key, location);
            }

            @Override
            public Optional<StoredCertificate> certificate(List<String> names) {
                return local.certificate(names);
            }

            @Override
            public void save(StoredCertificate certificate) throws IOException {
                local.save(certificate);
            }

            @Override
            public Lock lock() throws IOException {
                throw new IOException("the fleet lock river:acme:x:lock in Redis at 127.0.0.1:6379 is still held after PT15M");
            }

            @Override
            public Optional<? extends Lock> tryLock() {
                return Optional.empty();
            }
        };
        CertificateManager.Issuer ca = names -> {
            throw new AssertionError("no order without the lock");
        };
        CertificateManager m = new CertificateManager(noLock, ca, null, new CertificateManagerTest.Installs(), new Renewal.BeforeExpiry(30),
                clock, new Random(7), new AcmeMetrics(registry));
        m.manage(NAMES);
        m.runDue();
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "lock_not_taken")).isEqualTo(1);
        assertThat(s.sum("river_acme_orders_total")).isZero(); // no order was sent
        assertThat(m.failures(NAMES)).isEqualTo(1);
    }
}
