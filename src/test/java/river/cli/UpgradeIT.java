package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * The graceful upgrade end to end, with two real River processes started as bin/river starts them
 * (-Xrs, River's own signal handlers): instance A serves under continuous load — a keep-alive HTTP/1.1
 * client, a client opening a connection per request, h2load over cleartext HTTP/2, and a WebSocket
 * echoing — when B starts with {@code --upgrade}; SIGQUIT to A hands its listeners (TCP and unix) to
 * B. No request that reached River goes unanswered, no HTTP/2 stream River took fails, new connections
 * land on B (which adds another response header), the WebSocket open on A keeps echoing until the test
 * closes it, and A then exits 0. Also: an upgrade whose new instance fails to start leaves A serving.
 */
class UpgradeIT {
    private static final List<String> XRS = List.of("-Xrs");

    @TempDir
    Path dir;

    private TestOrigin origin;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<RiverProcess.Running> rivers = new java.util.ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        stop.set(true);
        for (RiverProcess.Running r : rivers) {
            r.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String config(String instance, int port, String extraListener) {
        return """
                system {
                    threads-per-service 2
                    upgrade-socket "%s"
                    grace-period-seconds 60
                    close-spread-ms 300
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:%d" h2c=true
                            "unix:%s"
                            %s
                        }
                        connectors {
                            "%s"
                        }
                        path-control {
                            response-filters {
                                filter kind="upsert-header" key="x-instance" value="%s"
                            }
                        }
                    }
                }
                """.formatted(dir.resolve("upgrade.sock"), port, dir.resolve("river.sock"), extraListener, origin.address(), instance);
    }

    private RiverProcess.Running start(String name, String kdl, String... extraArgs) throws IOException {
        Path file = dir.resolve(name + ".kdl");
        Files.writeString(file, kdl);
        Path logs = Files.createDirectories(dir.resolve(name));
        List<String> args = new java.util.ArrayList<>(List.of(extraArgs));
        args.addAll(List.of("--config-kdl", file.toString()));
        RiverProcess.Running river = RiverProcess.startLogged(dir, logs, XRS, args.toArray(String[]::new));
        rivers.add(river);
        return river;
    }

    /** What one load client saw: answers by instance, failures, and retries RFC 9112 §9.3.1 allows. */
    static final class Tally {
        final AtomicInteger fromA = new AtomicInteger();
        final AtomicInteger fromB = new AtomicInteger();
        /** A keep-alive connection closed before any byte of the response: the request was resent. */
        final AtomicInteger retriedAfterIdleClose = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

        void answered(RawHttp.Response response) {
            if (response.status() != 200) {
                failures.add("status " + response.status());
            } else if ("B".equals(response.headers().get("x-instance"))) {
                fromB.incrementAndGet();
            } else if ("A".equals(response.headers().get("x-instance"))) {
                fromA.incrementAndGet();
            } else {
                failures.add("no x-instance header: " + response.headers());
            }
            progressed();
        }

        void failed(String why) {
            failures.add(why);
            progressed();
        }

        @Override
        public String toString() {
            return "A=" + fromA + " B=" + fromB + " retried=" + retriedAfterIdleClose + " failures=" + failures;
        }
    }

    /** Sends GETs one after another on one connection for as long as the server keeps it, then on a new one. */
    private CompletableFuture<Void> keepAliveClient(int port, Tally tally) {
        return CompletableFuture.runAsync(() -> {
            RawHttp raw = null;
            int bounded = 200_000;
            while (!stop.get() && bounded-- > 0) {
                try {
                    if (raw == null) {
                        raw = new RawHttp(port);
                        raw.timeout(30_000);
                    }
                    raw.send("GET /hello HTTP/1.1\r\nHost: upgrade\r\n\r\n");
                    RawHttp.Response response = raw.read();
                    tally.answered(response);
                    if ("close".equalsIgnoreCase(response.headers().get("connection"))) {
                        raw.close();
                        raw = null;
                    }
                } catch (IOException e) {
                    if ("connection closed before a response".equals(e.getMessage())) {
                        tally.retriedAfterIdleClose.incrementAndGet();
                    } else {
                        tally.failed(e.toString());
                    }
                    closeQuietly(raw);
                    raw = null;
                }
            }
            closeQuietly(raw);
        });
    }

    /** One connection per request, with Connection: close; a refused connection is a failure. */
    private CompletableFuture<Void> newConnectionClient(int port, Tally tally) {
        return CompletableFuture.runAsync(() -> {
            int bounded = 200_000;
            while (!stop.get() && bounded-- > 0) {
                try (RawHttp raw = new RawHttp(port)) {
                    raw.timeout(30_000);
                    raw.send("GET /hello HTTP/1.1\r\nHost: upgrade\r\nConnection: close\r\n\r\n");
                    tally.answered(raw.read());
                } catch (IOException e) {
                    tally.failed(e.toString());
                }
            }
        });
    }

    private static void closeQuietly(RawHttp raw) {
        if (raw != null) {
            try {
                raw.close();
            } catch (IOException ignored) {
                // closing a connection that already failed
            }
        }
    }

    /** Waits for a condition the load makes true, failing after 60 s or when a failure shows up. */
    private static void await(String what, BooleanSupplier condition, Tally... tallies) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        synchronized (PROGRESS) {
            while (!condition.getAsBoolean()) {
                for (Tally t : tallies) {
                    assertThat(t.failures).as(what).isEmpty();
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("timed out waiting for " + what + ": " + List.of(tallies));
                }
                // Woken by every answer or failure a load client counts.
                PROGRESS.wait(left);
            }
        }
    }

    /** Signalled by the tallies on every count, so that a wait wakes on the event itself. */
    private static final Object PROGRESS = new Object();

    private static void progressed() {
        synchronized (PROGRESS) {
            PROGRESS.notifyAll();
        }
    }

    /** Collects a WebSocket's echoes. */
    static final class Echoes implements WebSocket.Listener {
        final java.util.concurrent.LinkedBlockingQueue<String> received = new java.util.concurrent.LinkedBlockingQueue<>();

        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            received.add(data.toString());
            ws.request(1);
            return null;
        }
    }

    private static void echo(WebSocket ws, Echoes echoes, String text) throws Exception {
        ws.sendText(text, true).get(10, TimeUnit.SECONDS);
        assertThat(echoes.received.poll(10, TimeUnit.SECONDS)).isEqualTo("echo: " + text);
    }

    private static void signal(RiverProcess.Running river, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(river.process().pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void upgradeUnderLoadLosesNothing() throws Exception {
        origin = new TestOrigin();
        int port = Ports.free();
        RiverProcess.Running a = start("a", config("A", port, ""));
        a.awaitOutput("River started", false);

        Tally keepAlive = new Tally();
        Tally perRequest = new Tally();
        CompletableFuture<Void> k = keepAliveClient(port, keepAlive);
        CompletableFuture<Void> n = newConnectionClient(port, perRequest);
        Echoes echoes = new Echoes();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), echoes).get(10, TimeUnit.SECONDS);
        echo(ws, echoes, "before");
        await("answers from A", () -> keepAlive.fromA.get() >= 50 && perRequest.fromA.get() >= 20, keepAlive, perRequest);

        // h2load runs across the hand-over; it does not reconnect after GOAWAY and nghttp2 cancels the
        // requests it queued but had not sent, so it only must see no error answer. The python3-h2
        // client counts what River did to each stream: it reconnects after GOAWAY and must see no reset.
        Process h2load = new ProcessBuilder("h2load", "-c", "2", "-m", "4", "--rps", "50", "-n", "2000",
                "http://127.0.0.1:" + port + "/hello").redirectErrorStream(true).redirectOutput(dir.resolve("h2load.txt").toFile()).start();
        Path h2Running = Files.writeString(dir.resolve("h2client.run"), "");
        Path h2Script = dir.resolve("h2client.py");
        try (var in = UpgradeIT.class.getResourceAsStream("/upgrade/h2client.py")) {
            Files.copy(in, h2Script);
        }
        Process h2client = new ProcessBuilder("/usr/bin/python3", h2Script.toString(), "--port", Integer.toString(port),
                "--run-while", h2Running.toString(), "--timeout", "240")
                .redirectError(dir.resolve("h2client.err").toFile()).redirectOutput(dir.resolve("h2client.json").toFile()).start();

        RiverProcess.Running b = start("b", config("B", port, ""), "--upgrade");
        b.awaitOutput("waiting up to", false);
        signal(a, "QUIT");
        b.awaitOutput("River started", false);
        a.awaitOutput("draining", false);

        await("new connections on B", () -> perRequest.fromB.get() >= 20 && keepAlive.fromB.get() >= 50, keepAlive, perRequest);
        Process curl = new ProcessBuilder("curl", "-s", "-i", "-m", "10", "--unix-socket", dir.resolve("river.sock").toString(),
                "http://upgrade/hello").redirectErrorStream(true).start();
        String overUnix = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(overUnix).as("the unix listener was handed over").containsIgnoringCase("x-instance: B");

        // The WebSocket opened on A is a tunnel A keeps through its drain.
        echo(ws, echoes, "after");
        assertThat(a.process().isAlive()).as("A waits for its tunnel").isTrue();
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("A exits once its last connection has closed").isTrue();
        assertThat(a.process().exitValue()).isZero();
        a.awaitOutput("stopped after the upgrade", false);

        assertThat(h2load.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String h2 = Files.readString(dir.resolve("h2load.txt"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("requests: \\d+ total, (\\d+) started, (\\d+) done, (\\d+) succeeded").matcher(h2);
        assertThat(m.find()).as(h2).isTrue();
        assertThat(Integer.parseInt(m.group(3))).as("h2load answers " + h2).isPositive();
        assertThat(h2).as("h2load saw only 2xx answers").containsPattern("status codes: \\d+ 2xx, 0 3xx, 0 4xx, 0 5xx");

        assertThat(river.testsupport.FileWait.awaitContains(dir.resolve("h2client.err"), "first answer from B", h2client::isAlive))
                .as("the HTTP/2 client reached B").isTrue();
        Files.delete(h2Running);
        assertThat(h2client.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String h2json = Files.readString(dir.resolve("h2client.json"));
        com.fasterxml.jackson.databind.JsonNode h2stats = new com.fasterxml.jackson.databind.ObjectMapper().readTree(h2json);
        assertThat(h2stats.path("errors").size()).as(h2json + Files.readString(dir.resolve("h2client.err"))).isZero();
        assertThat(h2stats.path("resets").asInt(-1)).as("streams River reset: " + h2json).isZero();
        assertThat(h2stats.path("goaways").asInt()).as("A said GOAWAY: " + h2json).isPositive();
        assertThat(h2stats.path("answered_by").path("A").asInt()).as(h2json).isPositive();
        assertThat(h2stats.path("answered_by").path("B").asInt()).as("the HTTP/2 client reconnected to B: " + h2json).isPositive();

        stop.set(true);
        k.get(60, TimeUnit.SECONDS);
        n.get(60, TimeUnit.SECONDS);
        assertThat(keepAlive.failures).isEmpty();
        assertThat(perRequest.failures).isEmpty();
        System.out.printf("upgrade under load: keep-alive %s; per-request %s; h2load %s started, %s succeeded; python3-h2 %s%n",
                keepAlive, perRequest, m.group(1), m.group(3), h2json.strip());
        // The keep-alive client was told Connection: close on A's last response, or found its idle
        // connection closed and resent (allowed for an idempotent request): it never lost an answer.
        assertThat(keepAlive.retriedAfterIdleClose.get()).isLessThanOrEqualTo(1);
    }

    @Test
    void anUpgradeWhoseNewInstanceFailsLeavesTheOldOneServing() throws Exception {
        origin = new TestOrigin();
        int port = Ports.free();
        RiverProcess.Running a = start("a", config("A", port, ""));
        a.awaitOutput("River started", false);
        // B adopts A's listeners but cannot bind its extra one: a port A itself holds.
        int taken = Ports.free();
        try (java.net.ServerSocket occupied = new java.net.ServerSocket(taken, 50, java.net.InetAddress.getLoopbackAddress())) {
            RiverProcess.Running b = start("b", config("B", port, "\"127.0.0.1:" + taken + "\""), "--upgrade");
            b.awaitOutput("waiting up to", false);
            Tally tally = new Tally();
            CompletableFuture<Void> k = keepAliveClient(port, tally);
            await("answers from A", () -> tally.fromA.get() >= 20, tally);
            signal(a, "QUIT");
            assertThat(b.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(b.process().exitValue()).isEqualTo(1);
            a.awaitOutput("upgrade failed", false);
            int before = tally.fromA.get();
            await("A still answering", () -> tally.fromA.get() >= before + 20, tally);
            try (RawHttp fresh = new RawHttp(port)) {
                fresh.send("GET /hello HTTP/1.1\r\nHost: upgrade\r\nConnection: close\r\n\r\n");
                assertThat(fresh.read().headers()).containsEntry("x-instance", "A");
            }
            stop.set(true);
            k.get(60, TimeUnit.SECONDS);
            assertThat(tally.fromB.get()).isZero();
            assertThat(tally.failures).isEmpty();
        }
    }

    @Test
    void anUpgradeNobodyHandsOverToTimesOutWithAClearError() throws Exception {
        origin = new TestOrigin();
        String kdl = config("B", Ports.free(), "").replace("close-spread-ms 300", "close-spread-ms 300\n    upgrade-timeout-seconds 1");
        RiverProcess.Running b = start("b", kdl, "--upgrade");
        assertThat(b.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(b.process().exitValue()).isEqualTo(1);
        assertThat(Files.readString(b.stderr())).contains("no running River handed over its listeners on " + dir.resolve("upgrade.sock") + " within 1 s");
    }
}
