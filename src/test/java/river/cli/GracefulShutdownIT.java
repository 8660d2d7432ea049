package river.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/** SIGTERM lets the request in flight finish, refuses new connections, and exits 0; SIGINT exits at once. */
class GracefulShutdownIT {
    @TempDir
    Path dir;

    /** A proxy in front of {@code origin} whose grace period (an hour) never ends a test's drain. */
    private static String config(int threads, TestOrigin origin) {
        return RiverHarness.proxyConfig(threads, "", origin.address()).replace("system {\n", "system {\n  grace-period-seconds 3600\n");
    }

    /** Sends a request the origin holds until released; waits until the origin has it. */
    private static CompletableFuture<RawHttp.Response> heldRequest(int port, TestOrigin origin) throws InterruptedException {
        CompletableFuture<RawHttp.Response> response = CompletableFuture.supplyAsync(() -> {
            try (RawHttp raw = new RawHttp(port)) {
                raw.timeout(60_000);
                raw.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
                return raw.read();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Eventually.await(() -> origin.heldRequests() == 1, 30_000);
        return response;
    }

    @Test
    void sigtermDrainsInFlightRequestsThenExitsZero() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), config(2, origin));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                CompletableFuture<RawHttp.Response> inFlight = heldRequest(port, origin);
                river.process().destroy(); // SIGTERM
                river.awaitOutput("no longer accepting connections; 1 open connection(s), 1 with a request in progress", false);
                assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
                assertThat(river.process().isAlive()).as("still draining").isTrue();
                origin.releaseHeld();
                RawHttp.Response r = inFlight.get(60, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("released");
                assertThat(river.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isZero();
                assertThat(Files.readString(river.stderr())).contains("SIGTERM: draining", "stopped");
            }
        }
    }

    @Test
    void sigintExitsWithoutWaitingForTheRequestInFlight() throws Exception {
        // A shell starts background jobs with SIGINT ignored, and River (a child) inherits that: the
        // signal cannot be tested then.
        org.junit.jupiter.api.Assumptions.assumeFalse(sigintIgnored(), "SIGINT is ignored in this test's process tree");
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), config(1, origin));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                CompletableFuture<RawHttp.Response> inFlight = heldRequest(port, origin);
                new ProcessBuilder("kill", "-INT", Long.toString(river.process().pid())).start().waitFor();
                // The held request is never released: River exits (130) without draining it, an hour early.
                assertThat(river.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isEqualTo(130);
                assertThatThrownBy(() -> inFlight.get(60, TimeUnit.SECONDS)).as("the connection died with River")
                        .isInstanceOf(ExecutionException.class);
                assertThat(Files.readString(river.stderr())).contains("SIGINT: exiting now").doesNotContain("SIGTERM");
            }
        }
    }

    /** Whether this JVM was started with SIGINT ignored (bit 1 of SigIgn in /proc/self/status). */
    private static boolean sigintIgnored() throws java.io.IOException {
        for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 0x2L) != 0;
            }
        }
        return false;
    }
}
