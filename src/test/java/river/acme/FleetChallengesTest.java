package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.server.SharedAlpnChallenges.ChallengeCertificate;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Ports;
import river.testsupport.Redis;
import river.testsupport.TestPki;

/**
 * The fleet's challenges against a real redis-server: what one member publishes another finds (each with its own
 * Lettuce client, as separate Rivers), a miss is "none", a published challenge expires by its TTL, and a Redis that
 * refuses, never answers or is asked too much is "none" within the lookup's bound, warned about at most once a minute.
 */
class FleetChallengesTest {
    private static final String PREFIX = "river-test:acme:0123456789:";
    private static final String TOKEN = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
    private static final Duration TTL = Duration.ofMinutes(4);
    private static TestPki.Pair challenge;

    @TempDir
    Path tmp;
    private Redis redis;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final AtomicLong nanos = new AtomicLong();

    @BeforeAll
    static void certificate() throws Exception {
        challenge = TestPki.alpnChallenge("alpn.fleet.test", new byte[32]);
    }

    @BeforeEach
    void startRedis() throws Exception {
        redis = new Redis(Files.createDirectories(tmp.resolve("redis")));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        redis.close();
    }

    /** A member's challenges on Redis at {@code port}: its own client, as RedisAcmeStore makes it. */
    private FleetChallenges member(int port, Duration lookupTimeout, int maxInFlight) {
        return member(port, lookupTimeout, maxInFlight, RedisAcmeStore.COMMAND_TIMEOUT);
    }

    /** With {@code clientTimeout} for Lettuce's own connect and command timeouts. */
    private FleetChallenges member(int port, Duration lookupTimeout, int maxInFlight, Duration clientTimeout) {
        RedisURI uri = RedisURI.create("redis://127.0.0.1:" + port);
        uri.setTimeout(clientTimeout);
        RedisClient client = RedisClient.create();
        client.setOptions(ClientOptions.builder().autoReconnect(false)
                .socketOptions(SocketOptions.builder().connectTimeout(clientTimeout).build()).build());
        closing.add(() -> client.shutdown(0, 1, TimeUnit.SECONDS));
        FleetChallenges fleet = new FleetChallenges(client, uri, PREFIX, lookupTimeout, maxInFlight, nanos::get);
        closing.add(fleet);
        return fleet;
    }

    private FleetChallenges member() {
        return member(redis.port(), FleetChallenges.LOOKUP_TIMEOUT, FleetChallenges.MAX_LOOKUPS_IN_FLIGHT);
    }

    private static <T> T answer(java.util.concurrent.CompletionStage<T> lookup) throws Exception {
        return lookup.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private StatefulRedisConnection<String, String> inspect() {
        RedisClient client = RedisClient.create(redis.url());
        closing.add(() -> client.shutdown(0, 1, TimeUnit.SECONDS));
        return client.connect();
    }

    @Test
    void whatOneMemberPublishesAnotherFindsAndAMissIsNone() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member();
        assertThat(answer(other.http01(TOKEN))).isNull();

        try (FleetChallenges.Published published = ordering.publishHttp01(TOKEN, TOKEN + ".thumbprint", TTL)) {
            assertThat(answer(other.http01(TOKEN))).isEqualTo(TOKEN + ".thumbprint");
            assertThat(answer(other.http01("another-token"))).isNull();
        }
        // Withdrawn once the challenge is decided.
        assertThat(answer(other.http01(TOKEN))).isNull();
    }

    @Test
    void aTlsAlpn01ChallengeIsFoundWithItsKeyAndCertificate() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member();
        assertThat(answer(other.tlsAlpn01("alpn.fleet.test"))).isNull();
        try (FleetChallenges.Published published = ordering.publishTlsAlpn01("ALPN.fleet.test", challenge.privateKey(),
                challenge.chain().get(0), TTL)) {
            ChallengeCertificate found = answer(other.tlsAlpn01("alpn.fleet.test"));
            assertThat(found.certificate()).isEqualTo(challenge.chain().get(0));
            assertThat(found.key().getEncoded()).isEqualTo(challenge.privateKey().getEncoded());
        }
        assertThat(answer(other.tlsAlpn01("alpn.fleet.test"))).isNull();
    }

    /**
     * What the caller does with a found challenge (build a TLS context: slow when cold) does not hold up the lookups of
     * the CA's other connections: here the first one's caller takes longer than the lookup timeout, and the second
     * lookup, made meanwhile, still finds the challenge.
     */
    @Test
    void aSlowCallerOfOneLookupDoesNotMakeTheConcurrentOnesTimeOut() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member(redis.port(), Duration.ofMillis(200), FleetChallenges.MAX_LOOKUPS_IN_FLIGHT);
        try (FleetChallenges.Published published = ordering.publishTlsAlpn01("alpn.fleet.test", challenge.privateKey(),
                challenge.chain().get(0), TTL)) {
            CountDownLatch firstBuilding = new CountDownLatch(1);
            CountDownLatch secondAnswered = new CountDownLatch(1);
            java.util.concurrent.CompletionStage<ChallengeCertificate> first = other.tlsAlpn01("alpn.fleet.test").thenApply(found -> {
                // The slow build: until the second lookup is answered, at most 1 s (five lookup timeouts).
                firstBuilding.countDown();
                try {
                    secondAnswered.await(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return found;
            });
            assertThat(firstBuilding.await(10, TimeUnit.SECONDS)).isTrue();
            ChallengeCertificate second = answer(other.tlsAlpn01("alpn.fleet.test").whenComplete((found, error) -> secondAnswered.countDown()));
            assertThat(second).as("the second lookup, made while the first's caller works").isNotNull();
            assertThat(answer(first)).isNotNull();
        }
    }

    @Test
    void aWithdrawalNeverRemovesTheChallengeAnotherMemberPublishedSince() throws Exception {
        FleetChallenges former = member();
        FleetChallenges current = member();
        TestPki.Pair newer = TestPki.alpnChallenge("alpn.fleet.test", new byte[] {1, 2, 3});
        FleetChallenges.Published old = former.publishTlsAlpn01("alpn.fleet.test", challenge.privateKey(), challenge.chain().get(0), TTL);
        try (FleetChallenges.Published published = current.publishTlsAlpn01("alpn.fleet.test", newer.privateKey(), newer.chain().get(0),
                TTL)) {
            old.close(); // the former holder's order ends after the current one published the same name's
            assertThat(answer(former.tlsAlpn01("alpn.fleet.test")).certificate()).isEqualTo(newer.chain().get(0));
        }
    }

    @Test
    void anAbandonedOrderWithdrawsItsChallengeFromItsInterruptedThread() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member();
        FleetChallenges.Published published = ordering.publishHttp01(TOKEN, "abandoned", TTL);
        Thread acme = new Thread(() -> {
            Thread.currentThread().interrupt(); // as AcmeService.close leaves the ACME thread while its order unwinds
            published.close();
        });
        acme.start();
        acme.join(10_000);
        assertThat(answer(other.http01(TOKEN))).isNull();
    }

    @Test
    void aPublishedChallengeLivesNoLongerThanItsTtl() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member();
        StatefulRedisConnection<String, String> redisCli = inspect();
        ordering.publishHttp01(TOKEN, "kept", TTL);
        long ttl = redisCli.sync().pttl(ordering.http01Key(TOKEN));
        assertThat(ttl).isPositive().isLessThanOrEqualTo(TTL.toMillis());

        // A member that died before withdrawing: Redis removes it when its TTL runs out.
        ordering.publishHttp01("short-lived", "gone", Duration.ofMillis(200));
        assertThat(answer(other.http01("short-lived"))).isEqualTo("gone");
        Eventually.await(() -> redisCli.sync().exists(ordering.http01Key("short-lived")) == 0, 10_000);
        assertThat(answer(other.http01("short-lived"))).isNull();
        assertThat(answer(other.http01(TOKEN))).isEqualTo("kept");
    }

    @Test
    void theTtlIsTheValidationWaitCutShortByTheAuthorizationOrTheOrder() {
        Instant now = Instant.parse("2026-12-01T00:00:00Z");
        Duration wait = AcmeClient.CHALLENGE_TIMEOUT.plus(FleetChallenges.TTL_SLACK);
        Optional<Instant> week = Optional.of(now.plus(Duration.ofDays(7)));
        assertThat(FleetChallenges.ttl(now, Optional.empty(), Optional.empty())).isEqualTo(wait);
        assertThat(FleetChallenges.ttl(now, week, week)).isEqualTo(wait);
        assertThat(FleetChallenges.ttl(now, Optional.of(now.plusSeconds(90)), Optional.of(now.plusSeconds(120)))).isEqualTo(seconds(90));
        assertThat(FleetChallenges.ttl(now, Optional.of(now.plusSeconds(120)), Optional.of(now.plusSeconds(30)))).isEqualTo(seconds(30));
        assertThat(FleetChallenges.ttl(now, Optional.of(now.minusSeconds(5)), Optional.empty())).isEqualTo(seconds(1));
    }

    private static Duration seconds(long n) {
        return Duration.ofSeconds(n);
    }

    /** A client that can say how many connections it still holds (Lettuce keeps each until it is closed). */
    private static final class CountingClient extends RedisClient {
        int resources() {
            return getResourceCount();
        }
    }

    @Test
    void aConnectionRedisDroppedIsClosedWhenTheNextOneIsMade() throws Exception {
        CountingClient client = new CountingClient();
        client.setOptions(ClientOptions.builder().autoReconnect(false).build());
        closing.add(() -> client.shutdown(0, 1, TimeUnit.SECONDS));
        RedisURI uri = RedisURI.create(redis.url());
        FleetChallenges fleet = new FleetChallenges(client, uri, PREFIX, FleetChallenges.LOOKUP_TIMEOUT,
                FleetChallenges.MAX_LOOKUPS_IN_FLIGHT, nanos::get);
        closing.add(fleet);
        StatefulRedisConnection<String, String> admin = inspect();
        assertThat(answer(fleet.http01(TOKEN))).isNull(); // the first connection
        for (int i = 0; i < 5; i++) { // bounded: five drops, each followed by a new connection
            admin.sync().clientKill(io.lettuce.core.KillArgs.Builder.typeNormal().skipme());
            Eventually.await(() -> {
                fleet.http01(TOKEN); // a lookup once the drop is seen connects again
                return admin.sync().clientList().lines().count() == 2; // the inspector and the new one
            }, 10_000);
        }
        assertThat(answer(fleet.http01(TOKEN))).isNull();
        assertThat(client.resources()).as("the dropped connections were closed, only the live one is held").isEqualTo(1);
    }

    @Test
    void aRedisThatRefusesIsNoneWithOneWarningAMinute() throws Exception {
        FleetChallenges fleet = member(Ports.free(), FleetChallenges.LOOKUP_TIMEOUT, FleetChallenges.MAX_LOOKUPS_IN_FLIGHT);
        try (LogCapture log = LogCapture.of(FleetChallenges.class.getName())) {
            for (int i = 0; i < 3; i++) {
                assertThat(answer(fleet.http01(TOKEN))).isNull();
                assertThat(answer(fleet.tlsAlpn01("alpn.fleet.test"))).isNull();
            }
            assertThat(log.count("cannot look up a challenge in Redis at 127.0.0.1:")).isEqualTo(1);
            nanos.addAndGet(FleetChallenges.WARN_EVERY.toNanos());
            assertThat(answer(fleet.http01(TOKEN))).isNull();
            assertThat(log.count("cannot look up a challenge in Redis at 127.0.0.1:")).isEqualTo(2);
            assertThat(log.lines().get(log.lines().size() - 1)).contains("(5 more since the last warning)");
            // A publication that fails leaves the order to go on: only this River can answer it then.
            assertThat(fleet.publishHttp01(TOKEN, "x", TTL)).isSameAs(FleetChallenges.Published.NONE);
        }
    }

    @Test
    void aRedisThatNeverAnswersIsNoneWithinTheBoundAndLookupsInFlightAreBounded() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    for (int i = 0; i < 20; i++) {
                        accepted.add(silent.accept()); // held open, never read or answered
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            acceptor.start();
            try (LogCapture log = LogCapture.of(FleetChallenges.class.getName())) {
                // Lettuce's own timeouts far beyond the test's wait: only the lookup's bound can end these lookups.
                FleetChallenges fleet = member(silent.getLocalPort(), Duration.ofSeconds(1), 3, Duration.ofMinutes(5));
                List<CompletableFuture<String>> waiting = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    waiting.add(fleet.http01(TOKEN + i).toCompletableFuture());
                }
                CompletableFuture<String> beyond = fleet.http01(TOKEN).toCompletableFuture();
                assertThat(beyond).isCompletedWithValue(null); // answered at once, Redis not asked
                assertThat(log.count("more than 3 challenge lookups in flight")).isEqualTo(1);
                for (CompletableFuture<String> lookup : waiting) {
                    assertThat(lookup.get(10, TimeUnit.SECONDS)).isNull();
                }
            } finally {
                silent.close();
                acceptor.join(10_000);
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aRedisThatCameBackIsAskedAgain() throws Exception {
        FleetChallenges ordering = member();
        FleetChallenges other = member();
        ordering.publishHttp01(TOKEN, "before", TTL);
        assertThat(answer(other.http01(TOKEN))).isEqualTo("before");
        int port = redis.port();
        redis.close();
        assertThat(answer(other.http01(TOKEN))).isNull();
        redis = new Redis(tmp.resolve("redis"), port);
        ordering.publishHttp01(TOKEN, "after", TTL);
        assertThat(answer(other.http01(TOKEN))).isEqualTo("after");
    }

    @Test
    void whatNoCaSendsIsNeverAskedFor() throws Exception {
        FleetChallenges fleet = member(Ports.free(), FleetChallenges.LOOKUP_TIMEOUT, FleetChallenges.MAX_LOOKUPS_IN_FLIGHT);
        try (LogCapture log = LogCapture.of(FleetChallenges.class.getName())) {
            for (String junk : List.of("", "a.b", "../etc", "x".repeat(129), "tok en", "t%41")) {
                assertThat(answer(fleet.http01(junk))).as(junk).isNull();
            }
            assertThat(log.lines()).isEmpty(); // a Redis that refuses would have been warned about
        }
        assertThat(FleetChallenges.isToken(TOKEN)).isTrue();
    }
}
