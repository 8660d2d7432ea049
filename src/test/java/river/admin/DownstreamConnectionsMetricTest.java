package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.AdminConfig;
import river.config.ListenAddress;
import river.server.InheritedListeners;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** river_downstream_connections counts the client connections River holds, read from the server's one registry of them. */
class DownstreamConnectionsMetricTest {
    private static final String GET = "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n";
    private static final String AUTH = "Authorization: Bearer s3cret\r\n";

    @TempDir
    Path dir;

    @Test
    void idleKeepAliveConnectionsAreCountedUntilTheyClose() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "s3cret\n");
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            AdminConfig config = new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.of(token), true);
            AdminServer.Reloader reloader = () -> CompletableFuture.failedFuture(new IllegalStateException("no reload here"));
            try (AdminServer admin = AdminServer.start(config, river.server(), reloader, InheritedListeners.none());
                    RawHttp scrape = new RawHttp(((InetSocketAddress) admin.listener().localAddress()).getPort())) {
                RawHttp first = new RawHttp(river.port("proxy"));
                RawHttp second = new RawHttp(river.port("proxy"));
                assertThat(first.send(GET).read().status()).isEqualTo(200);
                assertThat(second.send(GET).read().status()).isEqualTo(200);
                assertThat(connections(scrape, "http1")).as("two idle keep-alive connections").isEqualTo(2);
                assertThat(connections(scrape, "other")).isZero();
                first.close();
                second.close();
                Eventually.await(() -> {
                    try {
                        return connections(scrape, "http1") + connections(scrape, "other") + connections(scrape, "h2") == 0;
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, 10_000);
            }
        }
    }

    /** The gauge for service "proxy" and {@code protocol}. */
    private static long connections(RawHttp scrape, String protocol) throws java.io.IOException {
        RawHttp.Response metrics = scrape.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n" + AUTH + "\r\n").read();
        assertThat(metrics.status()).isEqualTo(200);
        for (String line : metrics.text().split("\n")) {
            if (line.startsWith("river_downstream_connections{") && line.contains("protocol=\"" + protocol + "\"") && line.contains("service=\"proxy\"")) {
                return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no river_downstream_connections for proxy/" + protocol + " in\n" + metrics.text());
    }
}
