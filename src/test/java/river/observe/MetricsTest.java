package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import river.config.ConfigError;
import river.config.ConfigException;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/** River's request metrics through the real network path: counts move by exactly the requests sent. */
class MetricsTest {
    private static final String DURATION = "http_server_request_duration_seconds_count";
    private static final String UPSTREAM = "http_client_request_duration_seconds_count";
    private final HttpClient client = HttpClient.newHttpClient();
    private TestOrigin a;
    private TestOrigin b;
    private RiverHarness river;

    @AfterEach
    void stop() {
        if (river != null) {
            river.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static String config(boolean metrics, String connectors, String extra) {
        return """
                system {
                    threads-per-service 2
                    access-log "off"
                    admin {
                        enabled %s
                        listen "127.0.0.1:0"
                    }
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                %s
                %s
                    }
                }
                """.formatted(metrics, connectors, extra);
    }

    private int get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + river.port("proxy") + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private Scrape scrape() {
        return Scrape.of(river.server().metrics().registry());
    }

    /**
     * A scrape once {@code requests} requests are recorded: a request is recorded when it has ended on
     * River's side, which may be just after its client has the whole response.
     */
    private Scrape scrapeAfter(int requests) throws InterruptedException {
        Eventually.await(() -> scrape().sum(DURATION) >= requests, 5_000);
        return scrape();
    }

    /** River with metrics on, balancing round robin over two origins. */
    private void startBeforeTwoOrigins() throws Exception {
        a = new TestOrigin();
        b = new TestOrigin();
        river = RiverHarness.start(config(true, """
                        connectors {
                            "%s"
                            "%s"
                        }
                """.formatted(a.address(), b.address()), ""));
    }

    @Test
    void countsEveryRequestByStatusAndUpstreamServer() throws Exception {
        startBeforeTwoOrigins();
        for (int i = 0; i < 6; i++) {
            assertThat(get("/status?code=200")).isEqualTo(200);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(get("/status?code=404")).isEqualTo(404);
        }
        assertThat(get("/status?code=503")).isEqualTo(503);
        Scrape s = scrapeAfter(11);
        assertThat(s.sum(DURATION, "service", "proxy", "http_route", "default", "http_request_method", "GET", "http_response_status_code", "200"))
                .isEqualTo(6);
        assertThat(s.sum(DURATION, "service", "proxy", "http_response_status_code", "404")).isEqualTo(4);
        assertThat(s.sum(DURATION, "service", "proxy", "http_response_status_code", "503")).isEqualTo(1);
        assertThat(s.sum(DURATION, "service", "proxy")).isEqualTo(11);
        // Round robin: every attempt counted on the server it went to, and nowhere else.
        String portA = Integer.toString(a.port());
        String portB = Integer.toString(b.port());
        assertThat(s.sum(UPSTREAM, "server_port", portA) + s.sum(UPSTREAM, "server_port", portB)).isEqualTo(11);
        assertThat(s.sum(UPSTREAM, "server_port", portA)).isEqualTo(a.requestsReceived());
        assertThat(s.sum(UPSTREAM, "server_port", portB)).isEqualTo(b.requestsReceived());
        assertThat(s.sum("river_upstream_connection_uses_total", "service", "proxy")).isEqualTo(11);
        // New connections are exactly those the origins accepted; every other attempt reused one.
        assertThat(s.sum("river_upstream_connection_uses_total", "connection", "new"))
                .isEqualTo(a.connectionsAccepted() + b.connectionsAccepted());
        assertThat(s.sum("river_upstream_connection_uses_total", "connection", "reused")).isGreaterThan(0);
        assertThat(s.sum("river_upstream_connect_duration_seconds_count", "service", "proxy"))
                .isEqualTo(a.connectionsAccepted() + b.connectionsAccepted());
        assertThat(s.sum("river_upstream_healthy", "server_port", portA)).isEqualTo(1);
        assertThat(s.sum("river_upstream_healthy", "server_port", portB)).isEqualTo(1);
        assertThat(s.sum("river_upstream_errors_total", "service", "proxy")).isZero();
        assertThat(s.has("jvm_memory_used_bytes")).isTrue();
        assertThat(s.sum("river_access_log_dropped_total")).isEqualTo(AccessLog.dropped());
        assertThat(s.has("river_netty_allocator_used_bytes", "memory", "direct")).isTrue();
    }

    @Test
    void aServerTakenDownShowsInItsErrorCounterAndHealthGauge() throws Exception {
        startBeforeTwoOrigins();
        String portB = Integer.toString(b.port());
        assertThat(get("/status?code=200")).isEqualTo(200);
        assertThat(get("/status?code=200")).isEqualTo(200);
        b.close();
        b = null;
        // Each request that picks the stopped server fails to connect there and is retried on the other:
        // the client never sees it. Three failures in a row eject the server.
        int sent = 0;
        while (scrape().sum("river_upstream_healthy", "server_port", portB) != 0 && sent < 30) {
            assertThat(get("/status?code=200")).isEqualTo(200);
            sent++;
        }
        Scrape s = scrapeAfter(2 + sent);
        assertThat(s.sum("river_upstream_healthy", "server_port", portB)).isZero();
        assertThat(s.sum("river_upstream_ejections_total", "server_port", portB)).isEqualTo(1);
        assertThat(s.sum("river_upstream_errors_total", "server_port", portB, "kind", "connect_failed")).isEqualTo(3);
        // Every request was answered 200, and each failed attempt is an upstream attempt without a status.
        assertThat(s.sum(DURATION, "http_response_status_code", "200")).isEqualTo(2 + sent);
        assertThat(s.sum(UPSTREAM, "server_port", portB, "http_response_status_code", "none")).isEqualTo(3);
        assertThat(s.sum(DURATION, "http_response_status_code", "502")).isZero();
    }

    @Test
    void routesAndRejectionsAreLabelledByConfiguredNames() throws Exception {
        a = new TestOrigin();
        river = RiverHarness.start("""
                system {
                    admin {
                        enabled true
                        listen "127.0.0.1:0"
                    }
                    access-log "off"
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                        routes {
                            no-route status=404
                            route "/api" {
                                connectors {
                                    "%1$s"
                                }
                            }
                            route "/status" {
                                connectors {
                                    "%1$s"
                                }
                            }
                        }
                        rate-limiting {
                            rule kind="specific-uri" pattern="/api/limited" max-buckets=10 tokens-per-bucket=1 refill-qty=1 refill-rate-ms=3600000
                        }
                    }
                }
                """.formatted(a.address()));
        assertThat(get("/api/x")).isEqualTo(200);
        assertThat(get("/status?code=201")).isEqualTo(201);
        assertThat(get("/elsewhere/123")).isEqualTo(404);
        assertThat(get("/api/limited")).isEqualTo(200);
        assertThat(get("/api/limited")).isEqualTo(429);
        Scrape s = scrapeAfter(5);
        assertThat(s.sum(DURATION, "http_route", "/api")).isEqualTo(2);
        // Refused by the rate limit, which runs before routing: no route decided.
        assertThat(s.sum(DURATION, "http_route", "none", "http_response_status_code", "429")).isEqualTo(1);
        assertThat(s.sum(DURATION, "http_route", "/status", "http_response_status_code", "201")).isEqualTo(1);
        assertThat(s.sum(DURATION, "http_route", "no-route", "http_response_status_code", "404")).isEqualTo(1);
        assertThat(s.sum("river_rejections_total", "rule", "rate-limiting rule 1 (specific-uri)")).isEqualTo(1);
        // No label carries a raw path: only the configured routes and the two fixed names appear.
        assertThat(s.samples().stream().filter(x -> x.name().equals(DURATION)).map(x -> x.labels().get("http_route")).distinct())
                .containsExactlyInAnyOrder("/api", "/status", "no-route", "none");
    }

    @Test
    void reloadsAreCountedByOutcomeAndTheGenerationShown() throws Exception {
        a = new TestOrigin();
        String kdl = config(true, """
                        connectors {
                            "%s"
                        }
                """.formatted(a.address()), "");
        river = RiverHarness.start(kdl);
        assertThat(scrape().sum("river_config_generation")).isEqualTo(1);
        RiverConfig same = new ConfigLoader(java.nio.file.Path.of("").toAbsolutePath())
                .parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(river.server().reload(same).ok()).isTrue();
        assertThat(river.server().reload(() -> {
            throw new ConfigException(java.util.List.of(new ConfigError("test.kdl", 3, 5, "broken on purpose")));
        }).ok()).isFalse();
        Scrape s = scrape();
        assertThat(s.sum("river_reloads_total", "outcome", "ok")).isEqualTo(1);
        assertThat(s.sum("river_reloads_total", "outcome", "failed")).isEqualTo(1);
        assertThat(s.sum("river_config_generation")).isEqualTo(2);
        // The new generation's service records into the same series.
        assertThat(get("/status?code=200")).isEqualTo(200);
        assertThat(scrapeAfter(1).sum(DURATION, "service", "proxy")).isEqualTo(1);
    }

    @Test
    void offRecordsNothing() throws Exception {
        a = new TestOrigin();
        river = RiverHarness.start(config(false, """
                        connectors {
                            "%s"
                        }
                """.formatted(a.address()), ""));
        assertThat(get("/status?code=200")).isEqualTo(200);
        // The second request on the same keep-alive connection starts only once the first has ended,
        // so a recorder, if there were one, would have counted the first by now.
        assertThat(get("/status?code=200")).isEqualTo(200);
        assertThat(a.connectionsAccepted()).isEqualTo(1);
        assertThat(scrape().sum(DURATION)).isZero();
        // Nor the JVM's metrics: reading them loads the platform MXBeans, RSS nothing would read.
        assertThat(scrape().has("jvm_memory_used_bytes")).isFalse();
    }
}
