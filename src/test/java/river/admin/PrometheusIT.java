package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.Prometheus;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * A real Prometheus scrapes the packaged River's admin listener (with its bearer token); the test reads
 * the series back through Prometheus's query API: counters moved by exactly the requests sent, per
 * status and per upstream server, a rate and a histogram quantile, a server taken down in its error
 * counter and health gauge; {@code promtool check metrics} passes on the exposition; and every query
 * of the bundled Grafana dashboard is valid PromQL that Prometheus runs.
 */
class PrometheusIT {
    private static final String TOKEN = "scrape-" + Long.toHexString(System.nanoTime());
    private static final String COUNT = "http_server_request_duration_seconds_count";

    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newHttpClient();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private int get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void prometheusScrapesExactCountsRatesAndQuantiles() throws Exception {
        TestOrigin a = new TestOrigin();
        closing.add(a);
        TestOrigin b = new TestOrigin();
        closing.add(b);
        Path token = dir.resolve("token");
        Files.writeString(token, TOKEN + "\n");
        Files.writeString(dir.resolve("river.kdl"), """
                system {
                  threads-per-service 2
                  access-log "off"
                  admin {
                    enabled true
                    listen "127.0.0.1:0"
                    token-file "token"
                  }
                }
                services {
                  web {
                    listeners {
                      "127.0.0.1:0"
                    }
                    connectors {
                      "%s"
                      "%s"
                    }
                  }
                }
                """.formatted(a.address(), b.address()));
        RiverProcess.Running river = RiverProcess.startLogged(dir, Files.createDirectories(dir.resolve("logs")), List.of("-Xrs"),
                "--config-kdl", "river.kdl");
        closing.add(river);
        List<Integer> ports = river.awaitListening(2);
        int service = ports.get(0);
        int admin = ports.get(1);
        Prometheus prometheus = new Prometheus(Files.createDirectories(dir.resolve("prometheus")), "127.0.0.1:" + admin, "/metrics", token);
        closing.add(prometheus);

        for (int i = 0; i < 20; i++) {
            assertThat(get(service, "/status?code=200")).isEqualTo(200);
        }
        // A scrape with the first 20, then 7 more: the counters rise between two scrapes, so rates show it.
        awaitValue(prometheus, "sum(" + COUNT + "{service=\"web\"})", 20);
        for (int i = 0; i < 7; i++) {
            assertThat(get(service, "/status?code=404")).isEqualTo(404);
            assertThat(get(service, "/status?code=200")).isEqualTo(200);
        }
        // Prometheus has River's figures once a scrape after the last request shows all 34.
        awaitValue(prometheus, "sum(" + COUNT + "{service=\"web\"})", 34);
        assertThat(prometheus.value("sum(" + COUNT + "{service=\"web\",http_response_status_code=\"200\"})")).isEqualTo(27);
        assertThat(prometheus.value("sum(" + COUNT + "{service=\"web\",http_response_status_code=\"404\",http_request_method=\"GET\"})"))
                .isEqualTo(7);
        String upstreamCount = "sum(http_client_request_duration_seconds_count{service=\"web\",server_port=\"%d\"})";
        assertThat(prometheus.value(upstreamCount.formatted(a.port()))).isEqualTo(a.requestsReceived());
        assertThat(prometheus.value(upstreamCount.formatted(b.port()))).isEqualTo(b.requestsReceived());
        assertThat(a.requestsReceived() + b.requestsReceived()).isEqualTo(34);
        // A rate over the window, and a quantile from the histogram's buckets.
        assertThat(prometheus.value("sum(rate(" + COUNT + "{service=\"web\"}[1m]))")).isPositive();
        double p99 = prometheus.value("histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{service=\"web\"}[1m])))");
        assertThat(p99).isGreaterThan(0).isLessThanOrEqualTo(10);

        // One server taken down: its connect failures in its error counter, its health gauge at 0.
        int portB = b.port();
        b.close();
        closing.remove(b);
        for (int i = 0; i < 30 && !zero(prometheus, "river_upstream_healthy{service=\"web\",server_port=\"" + portB + "\"}"); i++) {
            assertThat(get(service, "/status?code=200")).isEqualTo(200); // retried on the other server
            awaitScrapeAfterRequest(prometheus, 35 + i);
        }
        assertThat(prometheus.value("river_upstream_healthy{service=\"web\",server_port=\"" + portB + "\"}")).isZero();
        assertThat(prometheus.value("river_upstream_healthy{service=\"web\",server_port=\"" + a.port() + "\"}")).isEqualTo(1);
        assertThat(prometheus.value("sum(river_upstream_errors_total{service=\"web\",server_port=\"" + portB + "\",kind=\"connect_failed\"})"))
                .isEqualTo(3);
        assertThat(prometheus.value("sum(" + COUNT + "{service=\"web\",http_response_status_code=~\"5..\"}) or vector(0)")).isZero();

        // promtool's linter on the exposition River serves.
        Path exposition = dir.resolve("metrics.txt");
        HttpResponse<Path> scraped = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofFile(exposition));
        assertThat(scraped.statusCode()).isEqualTo(200);
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectInput(exposition.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("promtool.txt").toFile()).start();
        assertThat(promtool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(promtool.exitValue()).as(Files.readString(dir.resolve("promtool.txt"))).isZero();

        // Every query of the bundled dashboard runs in Prometheus (valid PromQL over these series).
        JsonNode dashboard = new ObjectMapper().readTree(Path.of("packaging/grafana/river-dashboard.json").toFile());
        int queries = 0;
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText().replace("$__rate_interval", "1m").replace("$service", ".*");
                prometheus.query(expr);
                queries++;
            }
        }
        assertThat(queries).isGreaterThan(20);
        // And the request panels show data for this run.
        assertThat(prometheus.query("sum by (service) (rate(" + COUNT + "{service=~\".*\"}[1m]))")).hasSize(1);
    }

    /** Waits until a scrape has recorded {@code requests} requests (one scrape a second). */
    private static void awaitScrapeAfterRequest(Prometheus prometheus, int requests) throws InterruptedException {
        awaitValue(prometheus, "sum(" + COUNT + "{service=\"web\"})", requests);
    }

    private static void awaitValue(Prometheus prometheus, String promql, double expected) throws InterruptedException {
        Eventually.await(() -> {
            try {
                return prometheus.value(promql) == expected;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, 30_000);
    }

    private static boolean zero(Prometheus prometheus, String promql) {
        try {
            return prometheus.value(promql) == 0;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
