package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.acme.CertificateManager;
import river.config.AdminConfig;
import river.config.ListenAddress;
import river.server.InheritedListeners;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/**
 * The ACME metrics through the admin listener's real {@code GET /metrics}, after a real order from Debian's Pebble
 * (which offers no renewalInfo: the next renewal is by the configured rule, and the one renewalInfo request says so).
 */
class AcmeMetricsPebbleTest {
    private static final List<String> NAMES = List.of("metrics-acme.test", "www.metrics-acme.test");

    @TempDir
    Path dir;

    @Test
    void aPebbleOrderIsCountedAndItsNextRenewalScrapedByName() throws Exception {
        int httpPort = Ports.free();
        Files.createDirectories(dir.resolve("pebble"));
        try (Pebble pebble = new Pebble(dir.resolve("pebble"), httpPort, Ports.free());
                TestOrigin origin = new TestOrigin();
                LogCapture manager = LogCapture.of(CertificateManager.class.getName())) {
            String config = pebble.acmeSection(dir.resolve("store"), "")
                    + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + httpPort + "\"\n"
                    + "      \"127.0.0.1:0\" acme-domains=\"" + String.join(", ", NAMES) + "\"\n    }\n"
                    + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
            try (RiverHarness river = RiverHarness.start(config);
                    AdminServer admin = AdminServer.start(new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.empty(), true),
                            river.server(), () -> CompletableFuture.failedFuture(new IllegalStateException("no reload here")),
                            InheritedListeners.none())) {
                int port = ((InetSocketAddress) admin.listener().localAddress()).getPort();
                Eventually.await(() -> !river.server().acmeCertificate(NAMES).isEmpty(), 60_000);
                manager.await("offers no renewalInfo");
                Scrape s = scrape(port);
                assertThat(s.sum("river_acme_orders_total", "order", "first", "result", "issued")).isEqualTo(1);
                assertThat(s.sum("river_acme_orders_total", "result", "failed")).isZero();
                assertThat(s.sum("river_acme_order_failures_total")).isZero();
                assertThat(s.has("river_acme_order_failures_total", "kind", "challenge_failed")).isTrue();
                assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "unsupported")).isEqualTo(1);
                // Renewal by the rule (30 days before expiry), for each name; Pebble's certificates live 5 years by default.
                X509Certificate leaf = river.server().acmeCertificate(NAMES).get(0);
                double due = leaf.getNotAfter().toInstant().minus(java.time.Duration.ofDays(30)).getEpochSecond();
                for (String name : NAMES) {
                    assertThat(s.sum("river_acme_next_order_timestamp_seconds", "name", name, "schedule", "rule")).isEqualTo(due);
                }
                assertThat(s.text()).contains("# TYPE river_acme_next_order_timestamp_seconds gauge");
            }
        }
    }

    private static Scrape scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return new Scrape(r.body());
    }
}
