package river.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (Debian's {@code prometheus}) on a loopback port, scraping one target every
 * second, with its HTTP query API for the tests to read the scraped series back.
 */
public final class Prometheus implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int port;
    private final Process process;
    private final HttpClient client = HttpClient.newHttpClient();

    /**
     * @param target {@code host:port} of the endpoint to scrape
     * @param tokenFile a file with the bearer token the target wants, or null
     */
    public Prometheus(Path dir, String target, String metricsPath, Path tokenFile) throws IOException, InterruptedException {
        port = Ports.free();
        String auth = tokenFile == null ? "" : """
                    authorization:
                      type: Bearer
                      credentials_file: %s
                """.formatted(tokenFile.toAbsolutePath());
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: river
                    metrics_path: %s
                %s    static_configs:
                      - targets: ["%s"]
                """.formatted(metricsPath, auth, target));
        Path log = dir.resolve("prometheus.log");
        process = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Ports.awaitListening(port, process, log, "prometheus");
    }

    /** Runs an instant query; returns Prometheus's {@code data.result} array. */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new AssertionError("query " + promql + " failed: " + r.statusCode() + " " + r.body());
        }
        return body.path("data").path("result");
    }

    /** The value of a query whose result is one sample, or NaN when it has none. */
    public double value(String promql) throws IOException, InterruptedException {
        JsonNode result = query(promql);
        if (result.size() != 1) {
            return Double.NaN;
        }
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    /** The health of the one scrape target, as Prometheus's targets API reports it ("up", "down", "unknown"). */
    public String targetHealth() throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/targets")).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode targets = JSON.readTree(r.body()).path("data").path("activeTargets");
        return targets.size() == 0 ? "unknown" : targets.get(0).path("health").asText() + " " + targets.get(0).path("lastError").asText();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
