package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

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
import river.testsupport.FileWait;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.Redis;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * Fleet mode end to end: two River processes (the packaged jar), each with its own store-dir, share one real
 * redis-server ({@code store-redis}) and order from Pebble by DNS-01 (the challenge a fleet behind one name uses: the
 * CA's check does not depend on which member it reaches). The member that takes the fleet lock orders; its DNS hook
 * is held (a FIFO it reads) until the other member is seen waiting for the lock, so the two really contend. Pebble
 * sees one order; the waiter adopts what the holder stored; both serve the same chain, verified against Pebble's root.
 */
class AcmeFleetIT {
    private static final String NAME = "fleet.river-acme.test";

    @TempDir
    Path dir;
    private Pebble pebble;
    private Redis redis;
    private TestOrigin origin;
    private final List<RiverProcess.Running> rivers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        pebble = new Pebble(Files.createDirectories(dir.resolve("pebble")), Ports.free(), Ports.free());
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
        RiverProcess.Running a = member("a", portA, held);
        RiverProcess.Running b = member("b", portB, held);

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

    private RiverProcess.Running member(String name, int port, Path hook) throws Exception {
        String kdl = "system {\n  threads-per-service 1\n}\n"
                + pebble.acmeSection(dir.resolve("store-" + name), "  store-redis \"" + redis.url() + "\" key-prefix=\"river:fleet-it\"\n"
                        + "  dns-propagation-seconds 0\n  domain \"" + NAME + "\" challenge=\"dns-01\" hook=\"" + hook + "\"\n")
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + port + "\" acme-domains=\"" + NAME + "\"\n    }\n"
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
