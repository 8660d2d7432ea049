package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * The admin listener of the packaged River, through the real network path: every endpoint with Java's
 * HTTP client (the token, content negotiation of {@code /metrics}, redaction in {@code /config},
 * {@code /reload} good and broken), readiness held by a first health-check round the test controls, the
 * unix-socket admin with curl, and the admin socket handed over by an upgrade.
 */
class AdminIT {
    private static final String TOKEN = "t0ken-" + Long.toHexString(System.nanoTime());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A sample line of the text formats: name, optional labels, value, optional timestamp. */
    private static final Pattern SAMPLE = Pattern.compile("^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*\\})? \\S+( \\S+)?$");

    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private static String config(String generation, String admin, String origin, String extra) {
        return """
                system {
                  threads-per-service 1
                  admin {
                %s
                  }
                }
                services {
                  proxy {
                    listeners {
                      "127.0.0.1:0"
                    }
                    connectors {
                %s
                      "%s"
                    }
                    path-control {
                      upstream-request {
                        filter kind="upsert-header" key="Authorization" value="Bearer upstream-secret-value"
                      }
                      response-filters {
                        filter kind="upsert-header" key="x-generation" value="%s"
                      }
                    }
                    rate-limiting {
                      redis "redis://river:s3cret-pass@127.0.0.1:6390/0" key-prefix="river"
                    }
                  }
                }
                """.formatted(admin, extra, origin, generation);
    }

    private RiverProcess.Running start(String kdl, String... extraArgs) throws Exception {
        Files.writeString(dir.resolve("river.kdl"), kdl);
        List<String> args = new ArrayList<>(List.of(extraArgs));
        args.addAll(List.of("--config-kdl", "river.kdl"));
        Path logs = Files.createDirectories(dir.resolve("logs-" + closing.size()));
        RiverProcess.Running river = RiverProcess.startLogged(dir, logs, List.of("-Xrs"), args.toArray(String[]::new));
        closing.add(river);
        return river;
    }

    private HttpResponse<String> send(int port, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(int port, String method, String path, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of("Authorization", "Bearer " + TOKEN));
        all.addAll(List.of(headers));
        return send(port, method, path, all.toArray(String[]::new));
    }

    private static void assertTextFormat(String body) {
        for (String line : body.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                assertThat(line).as("a sample line").matches(SAMPLE);
            }
        }
    }

    private static String viaService(int port) throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            return r.headers().get("x-generation");
        }
    }

    @Test
    void everyEndpointWithTheTokenContentNegotiationRedactionAndReload() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        String admin = """
                    enabled true
                    listen "127.0.0.1:0"
                    token-file "token"
                """;
        RiverProcess.Running river = start(config("one", admin, origin.address(), ""));
        List<Integer> ports = river.awaitListening(2);
        int service = ports.get(0);
        int port = ports.get(1);
        river.awaitOutput("(bearer token required)", false);

        // The token: none, a wrong one, the right one.
        HttpResponse<String> none = send(port, "GET", "/health");
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("www-authenticate")).get().asString().startsWith("Bearer");
        assertThat(send(port, "GET", "/config", "Authorization", "Bearer " + TOKEN + "x").statusCode()).isEqualTo(401);
        assertThat(send(port, "GET", "/config", "Authorization", "Basic " + TOKEN).statusCode()).isEqualTo(401);

        HttpResponse<String> health = admin(port, "GET", "/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).path("status").asText()).isEqualTo("alive");
        HttpResponse<String> headHealth = admin(port, "HEAD", "/health");
        assertThat(headHealth.statusCode()).isEqualTo(200);
        assertThat(headHealth.body()).isEmpty();
        assertThat(headHealth.headers().firstValueAsLong("content-length")).hasValue(health.body().getBytes(StandardCharsets.UTF_8).length);

        HttpResponse<String> ready = admin(port, "GET", "/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).path("ready").asBoolean()).isTrue();

        // /metrics: Prometheus text 0.0.4 unless the client asks for OpenMetrics.
        assertThat(viaService(service)).isEqualTo("one");
        // The request is recorded as it ends, just after its answer went out.
        Eventually.await(() -> {
            try {
                return new river.testsupport.Scrape(admin(port, "GET", "/metrics").body()).sum("http_server_request_duration_seconds_count") == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, 10_000);
        HttpResponse<String> text = admin(port, "GET", "/metrics");
        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(text.body()).doesNotContain("# EOF");
        assertTextFormat(text.body());
        assertThat(new river.testsupport.Scrape(text.body()).sum("http_server_request_duration_seconds_count")).as(text.body()).isEqualTo(1);
        HttpResponse<String> open = admin(port, "GET", "/metrics", "Accept",
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(open.headers().firstValue("content-type")).hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(open.body()).endsWith("# EOF\n");
        assertTextFormat(open.body().substring(0, open.body().length() - "# EOF\n".length()));
        assertThat(open.body()).contains("# TYPE http_server_request_duration_seconds histogram\n")
                .containsPattern("(?m)^http_server_request_duration_seconds_count\\{.*\\} 1$");

        // /config: the effective configuration, its secrets redacted.
        HttpResponse<String> config = admin(port, "GET", "/config");
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(config.body()).doesNotContain("s3cret-pass").doesNotContain("upstream-secret-value").doesNotContain(TOKEN);
        JsonNode tree = JSON.readTree(config.body());
        assertThat(tree.path("system").path("threads-per-service").asInt()).isEqualTo(1);
        JsonNode proxy = tree.path("services").get(0);
        assertThat(proxy.path("guards").path("redis").path("url").asText()).isEqualTo("redis://river:[redacted]@127.0.0.1:6390/0");
        assertThat(config.body()).contains("\"value\" : \"[redacted]\"").contains("\"value\" : \"one\"");
        assertThat(tree.path("system").path("observability").path("admin").path("token-file").asText()).endsWith("token");

        // Methods and paths.
        HttpResponse<String> postHealth = admin(port, "POST", "/health");
        assertThat(postHealth.statusCode()).isEqualTo(405);
        assertThat(postHealth.headers().firstValue("allow")).hasValue("GET, HEAD");
        HttpResponse<String> getReload = admin(port, "GET", "/reload");
        assertThat(getReload.statusCode()).isEqualTo(405);
        assertThat(getReload.headers().firstValue("allow")).hasValue("POST");
        assertThat(admin(port, "GET", "/nothing-here").statusCode()).isEqualTo(404);

        // POST /reload: a good file becomes generation 2.
        Files.writeString(dir.resolve("river.kdl"), config("two", admin, origin.address(), ""));
        HttpResponse<String> reloaded = admin(port, "POST", "/reload");
        assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
        JsonNode outcome = JSON.readTree(reloaded.body());
        assertThat(outcome.path("ok").asBoolean()).isTrue();
        assertThat(outcome.path("generation").asInt()).isEqualTo(2);
        assertThat(outcome.path("services").path("changed").asInt()).isEqualTo(1);
        assertThat(viaService(service)).isEqualTo("two");
        assertThat(JSON.readTree(admin(port, "GET", "/config").body()).toString()).contains("\"two\"");

        // A broken file: the located error, and generation 2 still serves.
        String broken = config("three", admin, origin.address(), "").replace("kind=\"upsert-header\" key=\"x-generation\"",
                "kind=\"no-such-filter\" key=\"x-generation\"");
        Files.writeString(dir.resolve("river.kdl"), broken);
        int line = 0;
        String[] lines = broken.split("\n");
        while (!lines[line].contains("no-such-filter")) {
            line++;
        }
        HttpResponse<String> failed = admin(port, "POST", "/reload");
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(422);
        JsonNode failure = JSON.readTree(failed.body());
        assertThat(failure.path("ok").asBoolean()).isFalse();
        assertThat(failure.path("generation").asInt()).isEqualTo(2);
        assertThat(failure.path("errors").get(0).asText()).matches("river\\.kdl:" + (line + 1) + ":\\d+: .*no-such-filter.*");
        assertThat(viaService(service)).isEqualTo("two");
        river.testsupport.Scrape after = new river.testsupport.Scrape(admin(port, "GET", "/metrics").body());
        assertThat(after.sum("river_reloads_total", "outcome", "ok")).isEqualTo(1);
        assertThat(after.sum("river_reloads_total", "outcome", "failed")).isEqualTo(1);
        river.assertNoLeaks(service);
    }

    @Test
    void readyOnlyAfterTheFirstHealthCheckRound() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        // The check of the origin's /held is answered only when the test releases it: the first round
        // outlasts River's start-up wait (10 s), so River serves while the round is still going.
        String check = """
                      load-balance {
                        health-check "HTTP" host="h" path="/held" frequency-ms=600000 timeout-ms=600000
                      }
                """;
        RiverProcess.Running river = start(config("one", "    enabled true\n    listen \"127.0.0.1:0\"", origin.address(), check));
        Eventually.await(() -> origin.heldRequests() == 1, 30_000);
        List<Integer> ports = river.awaitListening(2);
        int port = ports.get(1);

        HttpResponse<String> pending = send(port, "GET", "/ready");
        assertThat(pending.statusCode()).as(pending.body()).isEqualTo(503);
        JsonNode body = JSON.readTree(pending.body());
        assertThat(body.path("ready").asBoolean()).isFalse();
        assertThat(body.path("pending").toString()).contains("service proxy: upstream group proxy: first health-check round");
        assertThat(send(port, "HEAD", "/ready").statusCode()).isEqualTo(503);
        assertThat(send(port, "GET", "/health").statusCode()).as("alive all the same").isEqualTo(200);

        origin.releaseHeld();
        Eventually.await(() -> {
            try {
                return send(port, "GET", "/ready").statusCode() == 200;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, 30_000);
        assertThat(JSON.readTree(send(port, "GET", "/ready").body()).path("ready").asBoolean()).isTrue();
    }

    @Test
    void duringTheDrainAfterSigtermReadyAnswers503() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        RiverProcess.Running river = start(config("one", "    enabled true\n    listen \"127.0.0.1:0\"", origin.address(), ""));
        List<Integer> ports = river.awaitListening(2);
        int port = ports.get(1);
        // A request in flight keeps the drain going until the test releases it.
        RawHttp inFlight = new RawHttp(ports.get(0));
        closing.add(inFlight);
        inFlight.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
        Eventually.await(() -> origin.heldRequests() == 1, 10_000);
        assertThat(send(port, "GET", "/ready").statusCode()).isEqualTo(200);
        assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(river.process().pid())).start().waitFor()).isZero();
        river.awaitOutput("no longer accepting connections", false);
        HttpResponse<String> draining = send(port, "GET", "/ready");
        assertThat(draining.statusCode()).as(draining.body()).isEqualTo(503);
        assertThat(draining.body()).contains("River is stopping");
        assertThat(send(port, "GET", "/health").statusCode()).isEqualTo(200);
        origin.releaseHeld();
        assertThat(inFlight.read().status()).isEqualTo(200);
        assertThat(river.process().waitFor(30, TimeUnit.SECONDS)).as("River exits once the drain is over").isTrue();
        assertThat(river.process().exitValue()).isZero();
    }

    @Test
    void anAdminListenerThatCannotStartStopsRiverWithItsReason() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Files.writeString(dir.resolve("river.kdl"), config("one",
                    "    enabled true\n    listen \"127.0.0.1:" + taken.getLocalPort() + "\"", origin.address(), ""));
            RiverProcess.Result busy = RiverProcess.run(dir, java.util.Map.of(), "--config-kdl", "river.kdl");
            assertThat(busy.exitCode()).isEqualTo(1);
            assertThat(busy.stderr()).contains("river: could not start: admin listener 127.0.0.1:" + taken.getLocalPort())
                    .containsIgnoringCase("address already in use");
        }
        Files.writeString(dir.resolve("token"), "\n");
        Files.writeString(dir.resolve("river.kdl"), config("one", "    enabled true\n    listen \"127.0.0.1:0\"\n    token-file \"token\"",
                origin.address(), ""));
        RiverProcess.Result empty = RiverProcess.run(dir, java.util.Map.of(), "--config-kdl", "river.kdl");
        assertThat(empty.exitCode()).isEqualTo(1);
        assertThat(empty.stderr()).contains("admin token-file " + dir.resolve("token") + " is empty");
    }

    @Test
    void aUnixSocketAdminIsOnlyForItsOwner() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        Path socket = dir.resolve("admin.sock");
        RiverProcess.Running river = start(config("one", "    enabled true\n    listen \"unix:" + socket + "\"", origin.address(), ""));
        river.awaitOutput("admin listening on unix:" + socket, false);
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        Process curl = new ProcessBuilder("curl", "-s", "-i", "-m", "10", "--unix-socket", socket.toString(), "http://admin/ready")
                .redirectErrorStream(true).start();
        String answer = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(answer).startsWith("HTTP/1.1 200").contains("\"ready\" : true");

        // Another user, even one the file's mode would let in, is not answered: River checks the peer's uid.
        org.junit.jupiter.api.Assumptions.assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0,
                "switching to another user needs root");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        Process other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "-i", "-m", "10",
                "--unix-socket", socket.toString(), "http://admin/ready").redirectErrorStream(true).start();
        String refused = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(other.waitFor(20, TimeUnit.SECONDS)).isTrue();
        // Closed as soon as accepted: curl sees a reset or an empty reply (7, 52 or 56), never an answer.
        assertThat(other.exitValue()).as(refused).isIn(7, 52, 56);
        assertThat(refused).doesNotContain("HTTP/1.1");
    }

    @Test
    void anUpgradeHandsTheAdminSocketOverToTheNewInstance() throws Exception {
        TestOrigin origin = new TestOrigin();
        closing.add(origin);
        int adminPort = Ports.free();
        String admin = "    enabled true\n    listen \"127.0.0.1:" + adminPort + "\"";
        String system = "system {\n  upgrade-socket \"" + dir.resolve("upgrade.sock") + "\"\n  grace-period-seconds 5\n";
        RiverProcess.Running a = start(config("A", admin, origin.address(), "").replace("system {\n", system));
        a.awaitOutput("River started", false);
        assertThat(admin(adminPort, "GET", "/config").body()).contains("\"A\"");

        RiverProcess.Running b = start(config("B", admin, origin.address(), "").replace("system {\n", system), "--upgrade");
        b.awaitOutput("waiting up to", false);
        assertThat(new ProcessBuilder("kill", "-QUIT", Long.toString(a.process().pid())).start().waitFor()).isZero();
        b.awaitOutput("River started", false);
        b.awaitOutput("admin adopted the inherited listener 127.0.0.1:" + adminPort, false);
        // A stops accepting on the adopted socket: every new admin connection is B's.
        Eventually.await(() -> {
            try {
                return admin(adminPort, "GET", "/config").body().contains("\"B\"");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, 30_000);
        assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("A exits after its drain").isTrue();
        assertThat(a.process().exitValue()).isZero();
        assertThat(admin(adminPort, "GET", "/ready").statusCode()).isEqualTo(200);
    }
}
