package river.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.shredzone.acme4j.util.KeyPairUtils;
import river.config.AcmeConfig;
import river.config.AcmeConfig.Renewal;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Redis;

/**
 * Fleet mode against a real redis-server: members (each its own RedisAcmeStore and store-dir, as separate Rivers
 * would have) share the account and the certificates, order once between them under the lease lock, and keep
 * serving from their store-dir when Redis is gone.
 */
class RedisAcmeStoreTest {
    private static final List<String> NAMES = List.of("example.com", "www.example.com");
    private static final String CA = "https://ca.test/directory";
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path tmp;

    private Redis redis;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final MutableClock clock = new MutableClock(T0);

    @BeforeEach
    void startRedis() throws Exception {
        Files.createDirectories(tmp.resolve("redis"));
        redis = new Redis(tmp.resolve("redis"));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        redis.close();
    }

    /** A fleet member's store: its own store-dir, the shared Redis; a long lease unless the test shortens it. */
    private RedisAcmeStore member(String name) throws IOException {
        return member(name, Duration.ofSeconds(30), Duration.ofMinutes(1));
    }

    private RedisAcmeStore member(String name, Duration lease, Duration maxWait) throws IOException {
        RedisAcmeStore store = RedisAcmeStore.open(redis.url(), "river-test:acme", CA, AcmeStore.open(tmp.resolve(name)), lease,
                Duration.ofMillis(20), maxWait, Thread::sleep);
        closing.add(store);
        return store;
    }

    /** The CA: counts orders; certificates for 90 days from the clock's now. */
    private class Ca implements CertificateManager.Issuer {
        final AtomicInteger orders = new AtomicInteger();

        @Override
        public StoredCertificate issue(List<String> names) throws Exception {
            orders.incrementAndGet();
            Instant now = clock.instant();
            return TestCertificates.issue(names, now, now.plus(DAY.multipliedBy(90)), now);
        }
    }

    private CertificateManager manager(CertificateStore store, CertificateManager.Issuer ca, CertificateManagerTest.Installs installs) {
        return new CertificateManager(store, ca, installs, new Renewal.BeforeExpiry(30), clock, new Random(7));
    }

    private RedisCommands<String, String> raw() {
        RedisClient client = RedisClient.create(redis.url());
        StatefulRedisConnection<String, String> c = client.connect();
        closing.add(() -> {
            c.close();
            client.shutdown(0, 1, TimeUnit.SECONDS);
        });
        return c.sync();
    }

    private static StoredCertificate certificate(Instant issued) throws Exception {
        return TestCertificates.issue(NAMES, issued, issued.plus(DAY.multipliedBy(90)), issued);
    }

    /** At open, beside its own, the store makes the challenges' connection: no lookup spends its 500 ms connecting. */
    @Test
    void theChallengesConnectionIsMadeAtOpen() throws Exception {
        RedisCommands<String, String> redisSide = raw();
        member("a");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long clients;
        do {
            // The store's, the challenges' and this one; the challenges' is made asynchronously (each look a round trip).
            clients = redisSide.clientList().lines().filter(l -> !l.isBlank()).count();
        } while (clients < 3 && System.nanoTime() < deadline);
        assertThat(clients).isEqualTo(3);
    }

    @Test
    void twoMembersRacingOrderOnceAndAThirdStartsWithTheFleetsCertificate() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Ca slow = new Ca() {
            @Override
            public StoredCertificate issue(List<String> names) throws Exception {
                release.await(30, TimeUnit.SECONDS);
                return super.issue(names);
            }
        };
        Ca caOfB = new Ca();
        CertificateManagerTest.Installs installsOfA = new CertificateManagerTest.Installs();
        CertificateManagerTest.Installs installsOfB = new CertificateManagerTest.Installs();
        CertificateManager a = manager(member("a"), slow, installsOfA);
        CertificateManager b = manager(member("b"), caOfB, installsOfB);
        a.manage(NAMES);
        b.manage(NAMES);
        try (LogCapture log = LogCapture.of("river.acme")) {
            CompletableFuture<Instant> ordering = CompletableFuture.supplyAsync(a::runDue);
            log.await("ordering a certificate for [example.com, www.example.com] (none yet)");
            CompletableFuture<Instant> waiting = CompletableFuture.supplyAsync(b::runDue);
            log.await("holds the fleet lock river-test:acme:"); // b waits for a's order
            release.countDown();
            CompletableFuture.allOf(ordering, waiting).get(30, TimeUnit.SECONDS);
        }
        assertThat(slow.orders).hasValue(1);
        assertThat(caOfB.orders).hasValue(0);
        assertThat(installsOfB.leaves).containsExactlyElementsOf(installsOfA.leaves).hasSize(1);

        // A new member with an empty store-dir installs the fleet's certificate at once, and mirrors the same bytes.
        Ca caOfC = new Ca();
        CertificateManagerTest.Installs installsOfC = new CertificateManagerTest.Installs();
        CertificateManager c = manager(member("c"), caOfC, installsOfC);
        c.manage(NAMES);
        assertThat(installsOfC.leaves).containsExactlyElementsOf(installsOfA.leaves);
        c.runDue();
        assertThat(caOfC.orders).hasValue(0);
        for (String file : List.of("fullchain.pem", "key.pem", "meta.json")) {
            Path id = Path.of("certs", AcmeStore.id(NAMES), file);
            assertThat(Files.readAllBytes(tmp.resolve("c").resolve(id))).isEqualTo(Files.readAllBytes(tmp.resolve("a").resolve(id)));
        }
    }

    @Test
    void aCertificateRenewedByOneMemberReachesTheOthersAtTheirHourlyLook() throws Exception {
        RedisAcmeStore storeOfA = member("a");
        storeOfA.save(certificate(T0));
        Ca ca = new Ca();
        CertificateManagerTest.Installs installs = new CertificateManagerTest.Installs();
        CertificateManager b = manager(member("b"), ca, installs);
        b.manage(NAMES);
        Instant look = b.nextAttempt(NAMES).orElseThrow();

        StoredCertificate renewed = certificate(T0.plus(Duration.ofMinutes(10)));
        try (CertificateStore.Lock lock = storeOfA.lock()) {
            storeOfA.save(renewed);
        }
        clock.set(look);
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            b.runDue();
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("renewed by another process"));
        }
        assertThat(installs.leaves).hasSize(2).last().isEqualTo(renewed.leaf());
        assertThat(ca.orders).hasValue(0);
    }

    @Test
    void aLapsedLeaseIsTakenOverAndItsFormerHolderCannotWrite() throws Exception {
        RedisAcmeStore paused = member("a", Duration.ofMillis(300), Duration.ofMinutes(1));
        RedisAcmeStore other = member("b");
        RedisAcmeStore.RedisLock stale = paused.tryLock().orElseThrow();
        stale.stopRenewing(); // the holder stalls (a pause, a cut-off network, a kill): its lease runs out in Redis

        try (RedisAcmeStore.RedisLock taken = other.lock()) {
            StoredCertificate theirs = certificate(T0);
            other.save(theirs);
            assertThatThrownBy(() -> paused.save(certificate(T0.plusSeconds(60))))
                    .isInstanceOf(IOException.class).hasMessageContaining("no longer holds the fleet lock");
            assertThat(stale.lost()).isTrue();
            assertThatThrownBy(() -> paused.saveAccount(CA, KeyPairUtils.createECKeyPair("secp256r1"), "https://ca.test/acct/1"))
                    .isInstanceOf(IOException.class);
            assertThat(raw().exists(paused.keyPrefix() + "account")).isZero();
            assertThat(member("c").certificate(NAMES).orElseThrow().leaf()).isEqualTo(theirs.leaf());
            stale.close(); // releases nothing: the lock is the new holder's
            assertThat(member("d").tryLock()).isEmpty();
        }
    }

    @Test
    void theLeaseIsRenewedWhileHeldAndReleasedOnlyByItsHolder() throws Exception {
        RedisAcmeStore holder = member("a", Duration.ofMillis(1500), Duration.ofMinutes(1));
        RedisAcmeStore other = member("b");
        try (RedisAcmeStore.RedisLock lock = holder.tryLock().orElseThrow()) {
            Eventually.await(() -> lock.renewals() >= 4, 30_000); // beyond the lease's 1.5 s
            assertThat(other.tryLock()).isEmpty();
            assertThat(lock.lost()).isFalse();
            assertThat(raw().pttl(holder.keyPrefix() + "lock")).isPositive();
        }
        assertThat(raw().exists(holder.keyPrefix() + "lock")).isZero();
        other.tryLock().orElseThrow().close();
    }

    @Test
    void waitingForAnotherMembersOrderIsBounded() throws Exception {
        RedisAcmeStore holder = member("a");
        RedisAcmeStore impatient = member("b", Duration.ofSeconds(30), Duration.ZERO);
        try (CertificateStore.Lock lock = holder.lock()) {
            assertThatThrownBy(impatient::lock).isInstanceOf(IOException.class).hasMessageContaining("is still held after PT0S");
        }
        impatient.lock().close();
    }

    @Test
    void aStoreDirFromBeforeFleetModeBecomesTheFleetsAndTheAccountIsShared() throws Exception {
        AcmeStore before = AcmeStore.open(tmp.resolve("a"));
        StoredCertificate old = certificate(T0);
        before.save(old);
        KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
        before.saveAccount(CA, key, "https://ca.test/acct/1");

        RedisAcmeStore a = member("a");
        assertThat(a.certificate(NAMES).orElseThrow().leaf()).isEqualTo(old.leaf());
        assertThat(a.account(CA).orElseThrow().location()).contains("https://ca.test/acct/1");
        assertThat(raw().keys("river-test:acme:*")).containsExactlyInAnyOrder(a.keyPrefix() + "account",
                a.keyPrefix() + "certs:" + AcmeStore.id(NAMES));

        RedisAcmeStore b = member("b");
        assertThat(b.certificate(NAMES).orElseThrow().leaf()).isEqualTo(old.leaf());
        AcmeStore.StoredAccount shared = b.account(CA).orElseThrow();
        assertThat(shared.key().getPrivate().getEncoded()).isEqualTo(key.getPrivate().getEncoded());
        assertThat(b.account("https://other-ca.test/directory")).isEmpty();
    }

    @Test
    void withoutRedisAMemberFailsFastKeepsItsCertificateAndRestartsFromItsStoreDir() throws Exception {
        Ca ca = new Ca();
        CertificateManagerTest.Installs installs = new CertificateManagerTest.Installs();
        RedisAcmeStore store = member("a");
        CertificateManager m = manager(store, ca, installs);
        m.manage(NAMES);
        m.runDue();
        assertThat(ca.orders).hasValue(1);
        StoredCertificate current = m.current(NAMES).orElseThrow();

        redis.close();
        try (LogCapture log = LogCapture.of("river.acme")) {
            assertThat(store.certificate(NAMES).orElseThrow().leaf()).isEqualTo(current.leaf());
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("Redis at 127.0.0.1:", "is unreachable",
                    "using the certificate for [example.com, www.example.com] in " + tmp.resolve("a")));
            assertThatThrownBy(store::lock).isInstanceOf(IOException.class).hasMessageContaining("is unreachable");

            // Renewal is due: the order cannot take the fleet lock, so it is retried with the backoff; the certificate stays.
            clock.set(current.notAfter().minus(DAY.multipliedBy(29)));
            m.runDue();
            assertThat(ca.orders).hasValue(1);
            assertThat(m.failures(NAMES)).isEqualTo(1);
            assertThat(m.nextAttempt(NAMES)).contains(clock.instant().plus(Duration.ofMinutes(1)));
            assertThat(installs.leaves).containsExactly(current.leaf());

            // A restart while Redis is still gone serves the store-dir's copy, without an order.
            Ca after = new Ca();
            CertificateManagerTest.Installs installsAfter = new CertificateManagerTest.Installs();
            CertificateManager restarted = manager(member("a"), after, installsAfter);
            restarted.manage(NAMES);
            assertThat(installsAfter.leaves).containsExactly(current.leaf());
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("fleet mode", "serving the certificates of store-dir"));
        }

        // Redis is back, empty (no persistence): the member reconnects, gives it its copy, and orders under the lock again.
        redis = new Redis(tmp.resolve("redis"), redis.port());
        clock.set(m.nextAttempt(NAMES).orElseThrow());
        m.runDue();
        assertThat(ca.orders).hasValue(2);
        assertThat(m.failures(NAMES)).isZero();
        assertThat(member("b").certificate(NAMES).orElseThrow().leaf()).isEqualTo(m.current(NAMES).orElseThrow().leaf())
                .isNotEqualTo(current.leaf());
    }

    @Test
    void theConfigurationChoosesTheStore() throws Exception {
        AcmeConfig plain = new AcmeConfig(URI.create(CA), List.of(), tmp.resolve("plain"),
                new Renewal.BeforeExpiry(30), AcmeConfig.Challenge.HTTP_01, Optional.empty(), 60, List.of(),
                AcmeConfig.KeyType.ECDSA_P256, Optional.empty());
        assertThat(CertificateStore.open(plain)).isInstanceOf(AcmeStore.class);
        AcmeConfig fleet = new AcmeConfig(plain.directory(), plain.contacts(), tmp.resolve("fleet"), plain.renewal(),
                plain.challenge(), plain.challengeListener(), 60, plain.domains(), plain.keyType(), plain.caCertificatePath(),
                Optional.of(new AcmeConfig.RedisStore(redis.url(), "river-test:acme")));
        try (CertificateStore store = CertificateStore.open(fleet)) {
            assertThat(store).isInstanceOf(RedisAcmeStore.class);
            assertThat(store.dir()).isEqualTo(tmp.resolve("fleet").toRealPath());
            store.lock().close();
        }
    }
}
