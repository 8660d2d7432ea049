package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/** The metrics registry exists from the start exactly when an admin listener can read it. */
class MetricsRegistryTest {

    @Test
    void withoutAnAdminListenerNoRegistryIsMadeEvenWhileServing() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            HttpResponse<Void> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + river.port("proxy") + "/status?code=200")).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(river.server().metricsMade()).isFalse();
        }
    }

    @Test
    void withAnAdminListenerTheRegistryIsThereFromTheStartWithItsRuntimeGauges() throws Exception {
        String config = RiverHarness.proxyConfig(1, "", "127.0.0.1:1")
                .replace("threads-per-service 1\n", "threads-per-service 1\n  admin {\n    enabled true\n    listen \"127.0.0.1:0\"\n  }\n");
        assertThat(config).contains("admin {");
        try (RiverHarness river = RiverHarness.start(config)) {
            assertThat(river.server().metricsMade()).isTrue();
            assertThat(Scrape.of(river.server().metrics().registry()).has("river_upstream_healthy")).isTrue();
        }
    }
}
