package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.FileWait;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * The store's lock across a real upgrade (two River processes, {@code --upgrade} and SIGQUIT, as UpgradeIT): instance A
 * has an order in flight (its DNS hook never answers) and so holds the store-dir's lock, and a request in progress
 * keeps its drain going. Once A has handed its listeners to B it stops its ACME client: the order is abandoned (the
 * hook killed) and the lock released at once, so B orders and serves the certificate while A is still draining,
 * rather than after A's order times out or A exits. The acme section's challenge-listener is handed over too.
 */
class AcmeUpgradeIT {
    private static final String NAME = "upgrade.river-acme.test";

    @TempDir
    Path dir;
    private Pebble pebble;
    private TestOrigin origin;
    private final List<RiverProcess.Running> rivers = new ArrayList<>();
    /** The acme section's challenge-listener: handed over with the services' listeners. */
    private int challenge;

    @BeforeEach
    void start() throws Exception {
        pebble = new Pebble(Files.createDirectories(dir.resolve("pebble")), Ports.free(), Ports.free());
        origin = new TestOrigin();
    }

    @AfterEach
    void stop() throws Exception {
        origin.releaseHeld();
        for (RiverProcess.Running r : rivers) {
            r.close();
        }
        origin.close();
        pebble.close();
    }

    @Test
    void theOldProcessReleasesTheStoreLockAtTheHandOverAndTheNewOneOrdersWhileItDrains() throws Exception {
        Path holding = dir.resolve("holding");
        Path stuck = Files.writeString(dir.resolve("stuck-hook"), "#!/bin/sh\nif [ \"$1\" = set ]; then echo \"$2\" >> " + holding
                + "; exec sleep 600; fi\n");
        stuck.toFile().setExecutable(true, true);
        Path calls = dir.resolve("hook-calls");
        Path hook = pebble.dnsHook(dir.resolve("dns-hook"), calls);
        int http = Ports.free();
        int tls = Ports.free();
        challenge = Ports.free();

        RiverProcess.Running a = river("a", http, tls, stuck);
        assertThat(FileWait.awaitContains(holding, "_acme-challenge." + NAME, a.process()::isAlive)).isTrue(); // A's order holds the lock
        a.awaitOutput("River started", false);
        // A request in progress on A: its drain lasts until the test answers it.
        try (RawHttp inFlight = new RawHttp(http)) {
            inFlight.timeout(60_000);
            inFlight.send("GET /held HTTP/1.1\r\nHost: " + NAME + "\r\n\r\n");
            Eventually.await(() -> origin.heldRequests() == 1, 10_000);

            RiverProcess.Running b = river("b", http, tls, hook, "--upgrade");
            b.awaitOutput("upgrade: waiting up to", false);
            Process quit = new ProcessBuilder("kill", "-QUIT", Long.toString(a.process().pid())).inheritIO().start();
            assertThat(quit.waitFor(10, TimeUnit.SECONDS) && quit.exitValue() == 0).isTrue();

            b.awaitOutput("installed (newly issued", false); // within 30 s, where A's hook would hold the lock for 120 s
            a.awaitOutput("listeners handed over: stopping this process's ACME client", false);
            a.awaitOutput("abandoned, the store lock released", false);
            a.awaitOutput("killed: its order was abandoned", false);
            assertThat(a.process().isAlive()).as("A is still draining when B has its certificate").isTrue();
            assertThat(Files.readString(a.stderr())).doesNotContain("stopped after the upgrade");
            assertThat(TlsClient.leaf(tls, NAME, pebble.root()).getSubjectAlternativeNames())
                    .singleElement().satisfies(san -> assertThat(san.get(1)).isEqualTo(NAME));
            assertThat(Files.readAllLines(holding)).hasSize(1);
            assertThat(Files.readAllLines(calls)).containsExactly("set _acme-challenge." + NAME, "clean _acme-challenge." + NAME);
            assertThat(pebble.ordersCreated()).isEqualTo(2); // A's abandoned one, B's
            // B adopted the challenge-listener's socket too: it answers there (a redirect to https).
            try (RawHttp plain = new RawHttp(challenge)) {
                assertThat(plain.send("GET /page HTTP/1.1\r\nHost: " + NAME + "\r\n\r\n").read().status()).isEqualTo(308);
            }

            // The request A had in progress is answered, and A's drain ends.
            origin.releaseHeld();
            assertThat(inFlight.read().status()).isEqualTo(200);
        }
        assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(a.process().exitValue()).isZero();
    }

    private RiverProcess.Running river(String name, int http, int tls, Path hook, String... extraArgs) throws Exception {
        String kdl = "system {\n  threads-per-service 1\n  upgrade-socket \"" + dir.resolve("upgrade.sock") + "\"\n  grace-period-seconds 60\n"
                + "  close-spread-ms 100\n}\n"
                + pebble.acmeSection(dir.resolve("store"), "  challenge-listener \"127.0.0.1:" + challenge + "\"\n  dns-propagation-seconds 0\n  domain \"" + NAME + "\" challenge=\"dns-01\" hook=\""
                        + hook + "\"\n")
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + http + "\"\n      \"127.0.0.1:" + tls + "\" acme-domains=\"" + NAME
                + "\"\n    }\n    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        Path file = Files.writeString(dir.resolve(name + ".kdl"), kdl);
        List<String> args = new ArrayList<>(List.of(extraArgs));
        args.addAll(List.of("--config-kdl", file.toString()));
        RiverProcess.Running river = RiverProcess.startLogged(dir, Files.createDirectories(dir.resolve("logs-" + name)), List.of("-Xrs"),
                args.toArray(String[]::new));
        rivers.add(river);
        return river;
    }
}
