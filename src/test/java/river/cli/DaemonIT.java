package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * {@code --daemonize} and the pid file with the packaged jar: the foreground process exits 0 once the
 * background one serves, or 1 with the background one's error; a live pid file refuses a second
 * instance, a stale one is replaced; SIGTERM stops the daemon and removes its pid file.
 */
class DaemonIT {
    @TempDir
    Path dir;

    /** Background processes a test started, stopped whatever its outcome. */
    private Optional<ProcessHandle> daemon = Optional.empty();

    @AfterEach
    void stopDaemon() {
        daemon.ifPresent(ProcessHandle::destroyForcibly);
    }

    /**
     * Runs River with --daemonize to the end of its foreground process; a background process it
     * reports is stopped after the test, even one a failing test did not expect.
     */
    private RiverProcess.Result daemonize(String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("--config-kdl", "river.kdl", "--daemonize"));
        all.addAll(List.of(args));
        RiverProcess.Result r = RiverProcess.run(dir, Map.of(), all.toArray(String[]::new));
        Matcher serving = Pattern.compile("serving in the background, pid (\\d+)").matcher(r.stderr());
        if (serving.find()) {
            daemon = ProcessHandle.of(Long.parseLong(serving.group(1)));
        }
        return r;
    }

    private static int listeningPort(String stderr) {
        Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)").matcher(stderr);
        assertThat(m.find()).as("a listening line in:\n" + stderr).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** The session a process leads or belongs to, from /proc/PID/stat (the 6th field, after the command in parentheses). */
    private static long session(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
    }

    @Test
    void daemonizeServesInTheBackgroundWritesItsPidAndSigtermRemovesIt() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", origin.address()));
            Path pidFile = dir.resolve("river.pid");
            Path log = dir.resolve("river.log");
            RiverProcess.Result started = daemonize("--pidfile", pidFile.toString(), "--log-file", log.toString());
            assertThat(started.exitCode()).as(started.stderr()).isZero();
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            assertThat(ProcessHandle.of(pid)).as("the pid in the pid file is a live process").isPresent();
            assertThat(daemon.map(ProcessHandle::pid)).contains(pid);
            assertThat(started.stderr()).contains("serving in the background, pid " + pid);
            assertThat(session(pid)).as("the daemon leads its own session (setsid)").isEqualTo(pid);
            assertThat(daemon.get().info().commandLine().orElse("")).doesNotContain("--daemonize");

            try (RawHttp raw = new RawHttp(listeningPort(started.stderr()))) {
                raw.timeout(30_000);
                raw.send("GET /daemon HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                assertThat(raw.read().status()).isEqualTo(200);
            }
            daemon.get().destroy(); // SIGTERM
            assertThat(daemon.get().onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
            assertThat(pidFile).as("removed on a clean exit").doesNotExist();
            String logged = Files.readString(log);
            assertThat(logged).contains("GET", "/daemon", "SIGTERM: draining", "stopped").doesNotContain("LEAK:");
        }
    }

    @Test
    void aBrokenConfigurationFailsInTheForegroundWithTheLocatedError() throws Exception {
        Files.writeString(dir.resolve("river.kdl"), "services {\n  proxy {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"nowhere\"\n    }\n  }\n}\n");
        Path pidFile = dir.resolve("river.pid");
        RiverProcess.Result r = daemonize("--pidfile", pidFile.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("invalid configuration", "river.kdl:7");
        assertThat(pidFile).doesNotExist();
    }

    @Test
    void aBackgroundProcessThatCannotServeMakesTheForegroundExitOneWithItsError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", "127.0.0.1:9")
                    .replace("127.0.0.1:0", "127.0.0.1:" + taken.getLocalPort()));
            Path pidFile = dir.resolve("river.pid");
            RiverProcess.Result r = daemonize("--pidfile", pidFile.toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("could not start", "Address already in use", "the background process exited with status 1 before serving");
            assertThat(pidFile).doesNotExist();
        }
    }

    @Test
    void aLivePidFileRefusesASecondInstanceAndIsLeftAlone() throws Exception {
        Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", "127.0.0.1:9"));
        Path pidFile = dir.resolve("river.pid");
        String live = ProcessHandle.current().pid() + "\n"; // this test's JVM: alive, and not the new River
        Files.writeString(pidFile, live);
        RiverProcess.Result r = daemonize("--pidfile", pidFile.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("River is already running: pid file " + pidFile + " names process " + ProcessHandle.current().pid());
        assertThat(Files.readString(pidFile)).isEqualTo(live);
    }

    @Test
    void aStalePidFileIsReplacedWithoutDaemonizeToo() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", origin.address()));
            Path pidFile = dir.resolve("river.pid");
            long dead = PidFileTest.deadPid();
            Files.writeString(pidFile, dead + "\n");
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl", "--pidfile", pidFile.toString())) {
                river.awaitOutput("pid file " + pidFile + " written", false);
                assertThat(Files.readString(river.stderr())).contains("pid file " + pidFile + " is stale (process " + dead + " is not running)");
                assertThat(Files.readString(pidFile)).isEqualTo(river.process().pid() + "\n");
                river.process().destroy(); // SIGTERM
                assertThat(river.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isZero();
                assertThat(pidFile).doesNotExist();
            }
        }
    }
}
