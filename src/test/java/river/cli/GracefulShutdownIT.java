package river.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/** SIGTERM lets the request in flight finish, refuses new connections, and exits 0; SIGINT exits at once. */
class GracefulShutdownIT {
    @TempDir
    Path dir;

    @Test
    void sigtermDrainsInFlightRequestsThenExitsZero() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(2, "", origin.address()));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                CompletableFuture<RawHttp.Response> inFlight = CompletableFuture.supplyAsync(() -> {
                    try (RawHttp raw = new RawHttp(port)) {
                        raw.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: h\r\n\r\n");
                        return raw.read();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                while (origin.requestsReceived() == 0) {
                    Thread.sleep(10);
                }
                river.process().destroy(); // SIGTERM
                Thread.sleep(300);
                assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
                assertThat(inFlight.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
                assertThat(river.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isZero();
                assertThat(Files.readString(river.stderr())).contains("SIGTERM: draining");
            }
        }
    }

    @Test
    void sigintExitsAtOnce() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("river.kdl"), RiverHarness.proxyConfig(1, "", origin.address()));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
                int port = river.awaitListening(1).get(0);
                CompletableFuture.runAsync(() -> {
                    try (RawHttp raw = new RawHttp(port)) {
                        raw.send("GET /slow?ms=5000 HTTP/1.1\r\nHost: h\r\n\r\n");
                        raw.read();
                    } catch (Exception ignored) {
                        // The connection dies with River.
                    }
                });
                while (origin.requestsReceived() == 0) {
                    Thread.sleep(10);
                }
                new ProcessBuilder("kill", "-INT", Long.toString(river.process().pid())).start().waitFor();
                assertThat(river.process().waitFor(2, TimeUnit.SECONDS)).isTrue();
                assertThat(river.process().exitValue()).isEqualTo(130);
            }
        }
    }
}
