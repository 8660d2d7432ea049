package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.AdminConfig;
import river.config.ListenAddress;
import river.proxy.HttpDate;
import river.server.InheritedListeners;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Every answer of the admin listener carries an IMF-fixdate Date (RFC 9110 §6.6.1), errors and HEAD included. */
class AdminDateTest {
    private static final String IMF_FIXDATE = "[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";

    @TempDir
    Path dir;

    @Test
    void everyAnswerHasADateWithinTheTestsClock() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "s3cret\n");
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            AdminConfig config = new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.of(token), true);
            AdminServer.Reloader reloader = () -> CompletableFuture.failedFuture(new IllegalStateException("no reload here"));
            try (AdminServer admin = AdminServer.start(config, river.server(), reloader, InheritedListeners.none());
                    RawHttp raw = new RawHttp(((InetSocketAddress) admin.listener().localAddress()).getPort())) {
                String auth = "Authorization: Bearer s3cret\r\n";
                String[][] requests = {
                    {"GET /health", auth, "200"}, {"GET /metrics", auth, "200"}, {"HEAD /ready", auth, "200"},
                    {"GET /nowhere", auth, "404"}, {"DELETE /health", auth, "405"}, {"GET /health", "", "401"}};
                for (String[] r : requests) {
                    long before = Instant.now().getEpochSecond();
                    raw.send(r[0] + " HTTP/1.1\r\nHost: admin\r\n" + r[1] + "\r\n");
                    RawHttp.Response response = raw.read(r[0].startsWith("HEAD"));
                    long after = Instant.now().getEpochSecond();
                    assertThat(response.status()).as(r[0]).isEqualTo(Integer.parseInt(r[2]));
                    String date = response.headers().get("date");
                    assertThat(date).as(r[0]).isNotNull().matches(IMF_FIXDATE);
                    assertThat(HttpDate.parse(date)).as(r[0]).isBetween(before, after);
                }
            }
        }
    }
}
