package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.FileWait;
import river.testsupport.NotifySocket;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * River under systemd's protocols, with the packaged jar: socket activation through
 * systemd-socket-activate (Debian's systemd package), whose socket is in blocking mode as systemd's
 * are by default, and the notify protocol against a test NOTIFY_SOCKET that records the messages.
 */
class SystemdIT {
    @TempDir
    Path dir;

    private static RawHttp.Response get(int port, String path) throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.timeout(60_000);
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            return raw.read();
        }
    }

    @Test
    void servesOnTheSocketSystemdPassedAndNotifiesReadyAndStopping() throws Exception {
        int port = Ports.free();
        try (TestOrigin origin = new TestOrigin();
                NotifySocket systemd = new NotifySocket(dir.resolve("notify").toString())) {
            // One event loop, serving both the passed socket and the connections it accepts.
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", origin.address())
                    .replace("127.0.0.1:0", "127.0.0.1:" + port));
            List<String> activate = List.of("systemd-socket-activate", "-l", "127.0.0.1:" + port, "--fdname=web",
                    "-E", "NOTIFY_SOCKET=" + systemd.name());
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, activate, List.of(), Map.of(), "--config-kdl", "river.kdl")) {
                river.awaitOutput("Listening on 127.0.0.1:" + port + " as 3.", false);
                // systemd-socket-activate starts River on the first connection, which waits in the socket's queue meanwhile.
                assertThat(get(port, "/first").status()).isEqualTo(200);
                assertThat(systemd.await("READY=1")).contains("MAINPID=" + river.process().pid());
                for (int i = 0; i < 3; i++) {
                    assertThat(get(port, "/again-" + i).status()).isEqualTo(200);
                }
                // Netty accepts once per wake-up here, so a blocking socket rarely shows: only when another process
                // took the connection first (an upgrade's old instance holds the same socket) would accept hold the
                // event loop. What the kernel says of River's descriptor is the check.
                String flags = Files.readAllLines(Path.of("/proc/" + river.process().pid() + "/fdinfo/3")).stream()
                        .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
                assertThat(Integer.parseInt(flags.substring(6).strip(), 8) & 04000).as("O_NONBLOCK in " + flags).isNotZero();
                String log = Files.readString(river.stderr());
                assertThat(log).contains("descriptor 3 from systemd socket web was in blocking mode: made non-blocking",
                        "adopted the inherited listener 127.0.0.1:" + port).doesNotContain("listening on");
                river.process().destroy(); // SIGTERM, systemd's KillSignal
                systemd.await("STOPPING=1");
                assertThat(river.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isZero();
                assertThat(systemd.received()).hasSize(2);
            }
        }
    }

    @Test
    void aBlockingSocketRiverCannotChangeIsRefusedNamingTheDescriptorAndTheFix() throws Exception {
        int port = Ports.free();
        Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", "127.0.0.1:9").replace("127.0.0.1:0", "127.0.0.1:" + port));
        // On the class path, not as the jar: the manifest's Add-Opens does not apply, so River cannot set O_NONBLOCK.
        Path err = dir.resolve("river.err");
        Process river = new ProcessBuilder("systemd-socket-activate", "-l", "127.0.0.1:" + port,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", RiverProcess.jar().toString(),
                "river.cli.Main", "--config-kdl", "river.kdl")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            assertThat(FileWait.awaitContains(err, "as 3.", river::isAlive)).isTrue();
            try (java.net.Socket first = new java.net.Socket("127.0.0.1", port)) {
                assertThat(river.waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(river.exitValue()).isEqualTo(1);
            assertThat(Files.readString(err)).contains("descriptor 3 from systemd is in blocking mode and River could not change it",
                    "set NonBlocking=yes in the .socket unit");
        } finally {
            river.destroyForcibly();
        }
    }

    @Test
    void notifiesAnAbstractSocketWithoutSocketActivation() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                NotifySocket systemd = new NotifySocket("@river-systemd-it-" + ProcessHandle.current().pid())) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", origin.address()));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), List.of(),
                    Map.of("NOTIFY_SOCKET", systemd.name()), "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                assertThat(systemd.await("READY=1")).contains("MAINPID=" + river.process().pid());
                assertThat(get(port, "/").status()).isEqualTo(200);
                river.process().destroy();
                systemd.await("STOPPING=1");
                assertThat(river.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
        }
    }
}
