package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.modules.acme.AcmeChallengeModule;
import river.testsupport.FileWait;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.Redis;
import river.testsupport.RiverProcess;
import river.testsupport.TcpForwarder;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * Fleet mode end to end: two River processes (the packaged jar), each with its own store-dir, share one real
 * redis-server ({@code store-redis}) and order from Pebble. The member that takes the fleet lock orders; its DNS-01
 * hook is held (a FIFO it reads) until the other member is seen waiting for the lock, so the two really contend.
 * Pebble sees one order; the waiter adopts what the holder stored; both serve the same chain, verified against
 * Pebble's root. With DNS-01 the CA's check does not depend on which member it reaches; with HTTP-01 and TLS-ALPN-01
 * Pebble reaches the fleet through a TCP load balancer that sends it only to the member that did not order, which
 * answers from what the holder published in Redis. There the test decides which member orders before either starts
 * (it holds the fleet lock itself until both wait for it), so that the load balancer points at the other one before
 * any order is placed, however slow the machine.
 */
class AcmeFleetIT {
    private static final String NAME = "fleet.river-acme.test";
    private static final String WEB = "web.fleet.river-acme.test";
    private static final String ALPN = "alpn.fleet.river-acme.test";
    private static final String PREFIX = "river:fleet-it";

    @TempDir
    Path dir;
    private Pebble pebble;
    /** Where Pebble validates HTTP-01 and TLS-ALPN-01 (on 127.0.0.1): the load balancer's ports, no member's. */
    private int httpPort;
    private int tlsPort;
    private Redis redis;
    private TestOrigin origin;
    private final List<RiverProcess.Running> rivers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        httpPort = Ports.free();
        tlsPort = Ports.free();
        pebble = new Pebble(Files.createDirectories(dir.resolve("pebble")), httpPort, tlsPort);
        redis = new Redis(Files.createDirectories(dir.resolve("redis")));
        origin = new TestOrigin();
    }

    @AfterEach
    void stop() throws Exception {
        for (RiverProcess.Running r : rivers) {
            r.close();
        }
        origin.close();
        redis.close();
        pebble.close();
    }

    @Test
    void twoMembersOrderOneCertificateBetweenThemAndServeTheSameChain() throws Exception {
        Path calls = dir.resolve("hook-calls");
        Path go = dir.resolve("go");
        assertThat(new ProcessBuilder("mkfifo", go.toString()).start().waitFor()).isZero();
        // The hook of an order in flight: the TXT record is set once the test lets it through the FIFO.
        Path hook = pebble.dnsHook(dir.resolve("dns-hook"), calls);
        Path holding = dir.resolve("holding");
        Path held = Files.writeString(dir.resolve("held-hook"), "#!/bin/sh\nif [ \"$1\" = set ]; then echo \"$2\" >> " + holding + "; cat " + go
                + " > /dev/null; fi\nexec " + hook + " \"$@\"\n");
        held.toFile().setExecutable(true, true);

        int portA = Ports.free();
        int portB = Ports.free();
        String acme = "  domain \"" + NAME + "\" challenge=\"dns-01\" hook=\"" + held + "\"\n";
        RiverProcess.Running a = member("a", acme, "      \"127.0.0.1:" + portA + "\" acme-domains=\"" + NAME + "\"\n");
        RiverProcess.Running b = member("b", acme, "      \"127.0.0.1:" + portB + "\" acme-domains=\"" + NAME + "\"\n");

        // One member holds the lock, its order waiting in the hook; the other waits for the lock.
        assertThat(FileWait.awaitContains(holding, "_acme-challenge." + NAME, () -> a.process().isAlive() && b.process().isAlive())).isTrue();
        RiverProcess.Running waiter = awaitEither(a, b, "holds the fleet lock");
        RiverProcess.Running holder = waiter == a ? b : a;
        try (OutputStream release = Files.newOutputStream(go)) {
            release.write('\n');
        }

        holder.awaitOutput("installed (newly issued", false);
        waiter.awaitOutput("installed (obtained by another process", false);
        a.awaitOutput("ACME certificate(s) for [[" + NAME + "]] installed: accepting connections", false);
        b.awaitOutput("ACME certificate(s) for [[" + NAME + "]] installed: accepting connections", false);
        assertThat(pebble.ordersCreated()).isEqualTo(1);
        assertThat(Files.readString(holder.stderr())).contains("ACME: ordering a certificate for [" + NAME + "]");
        assertThat(Files.readString(waiter.stderr())).doesNotContain("ACME: ordering a certificate").doesNotContain("ACME: order https");
        assertThat(Files.readAllLines(calls)).containsExactly("set _acme-challenge." + NAME, "clean _acme-challenge." + NAME);
        assertThat(Files.readAllLines(holding)).hasSize(1); // the waiter never began an order

        X509Certificate root = pebble.root();
        List<X509Certificate> servedByA = TlsClient.chain(portA, NAME, root);
        List<X509Certificate> servedByB = TlsClient.chain(portB, NAME, root);
        assertThat(servedByA).isEqualTo(servedByB);
        assertThat(servedByA.get(0).getSubjectAlternativeNames()).singleElement().satisfies(san -> assertThat(san.get(1)).isEqualTo(NAME));
        // Each member's store-dir holds the fleet's copy.
        assertThat(Files.readString(dir.resolve("store-a/certs").resolve(AcmeStore.id(List.of(NAME))).resolve("fullchain.pem")))
                .isEqualTo(Files.readString(dir.resolve("store-b/certs").resolve(AcmeStore.id(List.of(NAME))).resolve("fullchain.pem")));
    }

    /**
     * Behind a load balancer the CA reaches any member: here only the one that did not order. Each member listens for
     * HTTP on a port of its own; Pebble validates at its HTTP-01 port, where a TCP load balancer sends every connection
     * to the waiter, chosen before either member starts ({@link #startInOrder}). The waiter answers with the key
     * authorization the holder published in Redis; the holder's HTTP listener is never asked.
     */
    @Test
    void theMemberThatDidNotOrderAnswersTheHttp01Challenge() throws Exception {
        int httpA = Ports.free();
        int httpB = Ports.free();
        int tlsA = Ports.free();
        int tlsB = Ports.free();
        try (TcpForwarder balancer = new TcpForwarder(httpPort)) {
            balancer.forwardTo(httpB);
            Fleet fleet = startInOrder(
                    () -> member("a", "", "      \"127.0.0.1:" + httpA + "\"\n" + "      \"127.0.0.1:" + tlsA + "\" acme-domains=\"" + WEB + "\"\n"),
                    () -> member("b", "", "      \"127.0.0.1:" + httpB + "\"\n" + "      \"127.0.0.1:" + tlsB + "\" acme-domains=\"" + WEB + "\"\n"));

            fleet.holder().awaitOutput("installed (newly issued", false, 60);
            fleet.waiter().awaitOutput("installed (obtained by another process", false);
            assertThat(Files.readString(fleet.holder().stderr())).contains("ACME: http-01 challenge for " + WEB + " is valid")
                    .contains("in Redis for 240 s (any member can answer it)");
            assertThat(Files.readString(fleet.waiter().stderr())).contains("answering the http-01 challenge")
                    .doesNotContain("ACME: ordering a certificate");
            assertOneOrder(fleet.holder());
            assertThat(balancer.forwarded()).isPositive();
            // Pebble's requests reached the waiter only, which answered them (the access log: River's stdout).
            fleet.waiter().awaitOutput(AcmeChallengeModule.PREFIX, true);
            assertThat(Files.readAllLines(fleet.waiter().stdout())).filteredOn(l -> l.contains(AcmeChallengeModule.PREFIX))
                    .allSatisfy(l -> assertThat(l).contains("status=200"));
            assertThat(Files.readString(fleet.holder().stdout())).doesNotContain(AcmeChallengeModule.PREFIX);

            assertServedByBoth(WEB, tlsA, tlsB);
            assertThat(challengeKeys()).isEmpty(); // withdrawn once decided
        }
    }

    /** The same for TLS-ALPN-01: the waiting member answers the acme-tls/1 handshake with the holder's challenge certificate. */
    @Test
    void theMemberThatDidNotOrderAnswersTheTlsAlpn01Challenge() throws Exception {
        int tlsA = Ports.free();
        int tlsB = Ports.free();
        try (TcpForwarder balancer = new TcpForwarder(tlsPort)) {
            balancer.forwardTo(tlsB);
            String acme = "  challenge \"tls-alpn-01\"\n";
            Fleet fleet = startInOrder(() -> member("a", acme, "      \"127.0.0.1:" + tlsA + "\" acme-domains=\"" + ALPN + "\"\n"),
                    () -> member("b", acme, "      \"127.0.0.1:" + tlsB + "\" acme-domains=\"" + ALPN + "\"\n"));

            fleet.holder().awaitOutput("installed (newly issued", false, 60);
            fleet.waiter().awaitOutput("installed (obtained by another process", false);
            assertThat(Files.readString(fleet.holder().stderr())).contains("ACME: tls-alpn-01 challenge for " + ALPN + " is valid")
                    .doesNotContain("answering the tls-alpn-01 challenge");
            assertThat(Files.readString(fleet.waiter().stderr())).contains("answering the tls-alpn-01 challenge for " + ALPN)
                    .doesNotContain("ACME: ordering a certificate");
            assertOneOrder(fleet.holder());
            assertThat(balancer.forwarded()).isPositive();

            assertServedByBoth(ALPN, tlsA, tlsB);
            assertThat(challengeKeys()).isEmpty();
        }
    }

    /** The member that orders ({@code holder}) and the one that waits for it, started by {@link #startInOrder}. */
    private record Fleet(RiverProcess.Running holder, RiverProcess.Running waiter) {}

    private interface Start {
        RiverProcess.Running start() throws Exception;
    }

    /**
     * Starts the two members so that {@code holder} orders and {@code waiter} does not, however slow either is to start:
     * the test holds the fleet lock itself (a third member, through River's own {@link RedisAcmeStore}, lease renewal
     * and all) while the waiter, then the holder, start and are seen waiting for it, listeners bound. The lock is then
     * let go with the waiter stopped (SIGSTOP: a paused member), so that the holder is the only one that can take it,
     * and the waiter resumes once the holder says it orders: before the holder's first request to the CA, and so before
     * any validation reaches the waiter.
     */
    private Fleet startInOrder(Start holderStart, Start waiterStart) throws Exception {
        try (RedisAcmeStore third = RedisAcmeStore.open(redis.url(), PREFIX, pebble.directoryUrl(), AcmeStore.open(dir.resolve("store-test")))) {
            RedisAcmeStore.RedisLock lock = third.tryLock().orElseThrow(() -> new AssertionError("the fleet lock is taken before any member starts"));
            String waiting = "holds the fleet lock " + third.keyPrefix() + "lock";
            RiverProcess.Running waiter = waiterStart.start();
            awaitWaitingForTheTest(waiter, waiting);
            RiverProcess.Running holder = holderStart.start();
            awaitWaitingForTheTest(holder, waiting);
            signal(waiter, "STOP");
            try {
                lock.close();
                holder.awaitOutput("ACME: ordering a certificate", false);
            } finally {
                signal(waiter, "CONT");
            }
            return new Fleet(holder, waiter);
        }
    }

    /** Waits until {@code member} logs {@code waiting}, and checks that the holder it names is this JVM (host/pid token). */
    private static void awaitWaitingForTheTest(RiverProcess.Running member, String waiting) throws Exception {
        member.awaitOutput(waiting, false, 60);
        assertThat(Files.readString(member.stderr())).containsPattern("/" + ProcessHandle.current().pid() + " [0-9a-f]{32} " + waiting);
    }

    private static void signal(RiverProcess.Running river, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(river.process().pid())).start().waitFor()).as("kill -" + signal).isZero();
    }

    /** Pebble saw one order, the holder's, which did not fail on the way. */
    private void assertOneOrder(RiverProcess.Running holder) throws java.io.IOException {
        assertThat(pebble.ordersCreated()).isEqualTo(1);
        assertThat(Files.readAllLines(holder.stderr())).filteredOn(l -> l.contains("ACME: ordering a certificate")).hasSize(1);
        assertThat(Files.readString(holder.stderr())).doesNotContain("ACME: order for");
    }

    /** Both members serve the same chain for {@code name}, verified against Pebble's root. */
    private void assertServedByBoth(String name, int portA, int portB) throws Exception {
        X509Certificate root = pebble.root();
        List<X509Certificate> servedByA = TlsClient.chain(portA, name, root);
        assertThat(TlsClient.chain(portB, name, root)).isEqualTo(servedByA);
        assertThat(servedByA.get(0).getSubjectAlternativeNames()).singleElement().satisfies(san -> assertThat(san.get(1)).isEqualTo(name));
    }

    /** The fleet's challenge keys still in Redis. */
    private List<String> challengeKeys() {
        RedisClient client = RedisClient.create(redis.url());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            List<String> keys = new ArrayList<>(c.sync().keys(PREFIX + ":*:http-01:*"));
            keys.addAll(c.sync().keys(PREFIX + ":*:tls-alpn-01:*"));
            return keys;
        } finally {
            client.shutdown(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** A fleet member: store-dir {@code store-NAME}, the shared Redis, then {@code acme} lines; one service with {@code listeners}. */
    private RiverProcess.Running member(String name, String acme, String listeners) throws Exception {
        String kdl = "system {\n  threads-per-service 1\n}\n"
                + pebble.acmeSection(dir.resolve("store-" + name), "  store-redis \"" + redis.url() + "\" key-prefix=\"" + PREFIX + "\"\n"
                        + "  dns-propagation-seconds 0\n" + acme)
                + "services {\n  web {\n    listeners {\n" + listeners + "    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        Path file = Files.writeString(dir.resolve(name + ".kdl"), kdl);
        RiverProcess.Running river = RiverProcess.startLogged(dir, Files.createDirectories(dir.resolve("logs-" + name)), List.of(),
                "--config-kdl", file.toString());
        rivers.add(river);
        return river;
    }

    /** The first of two processes whose diagnostics contain {@code text}; fails if either exits or 60 s pass. */
    private static RiverProcess.Running awaitEither(RiverProcess.Running a, RiverProcess.Running b, String text) throws Exception {
        int first = FileWait.awaitAnyContains(List.of(a.stderr(), b.stderr()), text, () -> a.process().isAlive() && b.process().isAlive(), 60);
        if (first < 0) {
            throw new AssertionError("neither River logged \"" + text + "\" (alive: " + a.process().isAlive() + ", " + b.process().isAlive()
                    + "):\n" + Files.readString(a.stderr()) + "\n----\n" + Files.readString(b.stderr()));
        }
        return first == 0 ? a : b;
    }
}
