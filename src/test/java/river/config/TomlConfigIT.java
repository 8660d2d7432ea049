package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.RiverProcess;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/**
 * The packaged River started from a TOML file alone ({@code --config-toml}): the admin listener set in
 * {@code [system.admin]} is bound, asks for the token of {@code token-file}, and its {@code /metrics}
 * counts a request proxied by the {@code [[basic-proxy]]} service.
 */
class TomlConfigIT {
    @TempDir
    Path dir;

    @Test
    void adminFromTomlServesMetricsOfAProxiedRequest() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            Files.writeString(dir.resolve("token"), "toml-token\n");
            Files.writeString(dir.resolve("river.toml"), """
                    [system]
                    threads-per-service = 1

                    [system.admin]
                    enabled = true
                    listen = "127.0.0.1:0"
                    token-file = "token"

                    [[basic-proxy]]
                    name = "toml-proxy"
                    listeners = [{ source = { kind = "Tcp", value = { addr = "127.0.0.1:0" } } }]
                    connector = { proxy_addr = "%s" }
                    """.formatted(origin.address()));
            Path logs = Files.createDirectories(dir.resolve("logs"));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, logs, List.of("-Xrs"), "--config-toml", "river.toml")) {
                List<Integer> ports = river.awaitListening(2);
                int service = ports.get(0);
                int admin = ports.get(1);
                HttpClient client = HttpClient.newHttpClient();
                HttpResponse<String> proxied = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service + "/echo")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(proxied.statusCode()).isEqualTo(200);
                HttpRequest scrape = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                        .header("Authorization", "Bearer toml-token").build();
                assertThat(client.send(HttpRequest.newBuilder(scrape.uri()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                        .as("the token of token-file is required").isEqualTo(401);
                // The request is recorded as it ends, just after its answer went out.
                Eventually.await(() -> {
                    try {
                        return new Scrape(client.send(scrape, HttpResponse.BodyHandlers.ofString()).body())
                                .sum("http_server_request_duration_seconds_count", "service", "toml-proxy") == 1;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, 10_000);
                river.assertNoLeaks(service);
            }
        }
    }
}
