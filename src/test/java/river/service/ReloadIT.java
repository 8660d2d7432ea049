package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;

/**
 * SIGHUP to the packaged River under continuous load: a keep-alive client, a client opening a
 * connection per request and an open WebSocket keep working through a reload that changes a response
 * filter, the upstream and the listeners, through an invalid reload, and through a reload that keeps
 * the upstream (whose origin then sees no new connection). Every failed request is counted.
 */
class ReloadIT {
    @TempDir
    Path dir;

    /** One client's tally: answers by the generation that tagged them, and failures. */
    static final class Tally {
        final String name;
        final Map<String, AtomicInteger> byGeneration = new ConcurrentHashMap<>();
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final java.util.Queue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();

        Tally(String name) {
            this.name = name;
        }

        void answered(RawHttp.Response r) {
            if (r.status() != 200) {
                fail("status " + r.status());
                return;
            }
            ok.incrementAndGet();
            byGeneration.computeIfAbsent(String.valueOf(r.headers().get("x-generation")), g -> new AtomicInteger()).incrementAndGet();
        }

        void fail(String why) {
            failed.incrementAndGet();
            if (failures.size() < 20) {
                failures.add(why);
            }
        }

        int of(String generation) {
            AtomicInteger n = byGeneration.get(generation);
            return n == null ? 0 : n.get();
        }

        @Override
        public String toString() {
            return name + ": " + ok + " ok " + byGeneration + ", " + failed + " failed " + failures;
        }
    }

    /** Waits until the tally has {@code more} answers beyond {@code from}. */
    private static void awaitMore(Tally t, int from, int more) throws InterruptedException {
        Eventually.await(() -> t.ok.get() >= from + more, 30_000);
    }

    /** One request on a new connection, its answer or failure tallied; a refused connection is the caller's to judge. */
    private static void requestOnNewConnection(int port, Tally tally) throws ConnectException {
        RawHttp raw;
        try {
            raw = new RawHttp(port);
        } catch (ConnectException refused) {
            throw refused;
        } catch (java.io.IOException e) {
            tally.fail(e.toString());
            return;
        }
        try (raw) {
            raw.timeout(30_000);
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            tally.answered(raw.read());
        } catch (java.io.IOException e) {
            tally.fail(e.toString());
        }
    }

    private static void signal(RiverProcess.Running river, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(river.process().pid())).start().waitFor()).isZero();
    }

    /** Started as bin/river starts it (-Xrs): the signal reaches River through its own native handler. */
    @Test
    void sighupUnderLoadChangesFilterUpstreamAndListenersWithoutOneFailedRequest() throws Exception {
        int kept = Ports.free();
        int removed = Ports.free();
        int added = Ports.free();
        Path file = dir.resolve("river.kdl");
        try (TestOrigin first = new TestOrigin(); TestOrigin second = new TestOrigin()) {
            Files.writeString(file, ReloadTest.config("one", first, 3600, "127.0.0.1:" + kept, "127.0.0.1:" + removed));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of("-Xrs"), "--config-kdl", "river.kdl")) {
                river.awaitListening(2);
                AtomicBoolean stop = new AtomicBoolean();
                Tally keepAlive = new Tally("keep-alive");
                Tally perRequest = new Tally("connection per request");
                Tally webSocket = new Tally("websocket");
                Tally removedListener = new Tally("removed listener");
                AtomicBoolean removedGone = new AtomicBoolean();
                // Reconnects, as an HTTP client does, when a response says Connection: close.
                AtomicInteger keepAliveConnections = new AtomicInteger();
                Thread keepAliveClient = new Thread(() -> {
                    RawHttp raw = null;
                    for (int i = 0; i < 1_000_000 && !stop.get(); i++) {
                        try {
                            if (raw == null) {
                                raw = new RawHttp(kept);
                                raw.timeout(30_000);
                                keepAliveConnections.incrementAndGet();
                            }
                            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                            RawHttp.Response r = raw.read();
                            keepAlive.answered(r);
                            if ("close".equals(r.headers().get("connection"))) {
                                raw.close();
                                raw = null;
                            }
                        } catch (Exception e) {
                            keepAlive.fail(e.toString());
                            raw = null;
                        }
                    }
                }, "keep-alive-client");
                Thread perRequestClient = new Thread(() -> {
                    for (int i = 0; i < 1_000_000 && !stop.get(); i++) {
                        try {
                            requestOnNewConnection(kept, perRequest);
                        } catch (ConnectException e) {
                            perRequest.fail(e.toString());
                        }
                    }
                }, "per-request-client");
                // A client of the listener the reload removes: its requests must all be answered until
                // the listener refuses connections; a refused connection is the end, not a failure. The
                // connection it may have queued, unaccepted, at the moment of the close is reset (below).
                Thread removedClient = new Thread(() -> {
                    for (int i = 0; i < 1_000_000 && !stop.get(); i++) {
                        try {
                            requestOnNewConnection(removed, removedListener);
                        } catch (ConnectException refused) {
                            removedGone.set(true);
                            return;
                        }
                    }
                }, "removed-listener-client");
                BlockingQueue<String> echoes = new LinkedBlockingQueue<>();
                WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                        .buildAsync(URI.create("ws://127.0.0.1:" + kept + "/ws"), new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                                echoes.add(data.toString());
                                w.request(1);
                                return null;
                            }
                        }).get(30, TimeUnit.SECONDS);
                Thread webSocketClient = new Thread(() -> {
                    for (int i = 0; i < 1_000_000 && !stop.get(); i++) {
                        try {
                            ws.sendText("m" + i, true).get(30, TimeUnit.SECONDS);
                            String echo = echoes.poll(30, TimeUnit.SECONDS);
                            if (("echo: m" + i).equals(echo)) {
                                webSocket.ok.incrementAndGet();
                            } else {
                                webSocket.fail("got " + echo + " for m" + i);
                            }
                        } catch (Exception e) {
                            webSocket.fail(e.toString());
                            return;
                        }
                    }
                }, "websocket-client");
                List<Thread> clients = List.of(keepAliveClient, perRequestClient, removedClient, webSocketClient);
                clients.forEach(Thread::start);
                try {
                    for (Tally t : List.of(keepAlive, perRequest, webSocket, removedListener)) {
                        awaitMore(t, 0, 20);
                    }

                    // Reload 1: new response header, new upstream, one listener removed and one added.
                    Files.writeString(file, ReloadTest.config("two", second, 3600, "127.0.0.1:" + kept, "127.0.0.1:" + added));
                    signal(river, "HUP");
                    river.awaitOutput("reload 1: ok in ", false);
                    river.awaitOutput("listeners 1 kept, 1 added, 1 removed; serving generation 2", false);
                    int keepAliveAt = keepAlive.ok.get();
                    int webSocketAt = webSocket.ok.get();
                    Eventually.await(() -> perRequest.of("two") >= 20, 30_000);
                    awaitMore(keepAlive, keepAliveAt, 20);
                    awaitMore(webSocket, webSocketAt, 20);
                    Eventually.await(removedGone::get, 30_000);
                    assertThatThrownBy(() -> new Socket("127.0.0.1", removed).close()).isInstanceOf(ConnectException.class);
                    try (RawHttp raw = new RawHttp(added)) {
                        raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                        assertThat(raw.read().headers()).containsEntry("x-generation", "two");
                    }
                    assertThat(second.requestsReceived()).as("the new upstream serves the new generation").isGreaterThanOrEqualTo(21);
                    assertThat(keepAliveConnections.get()).as("the old generation's keep-alive connection ended with Connection: close")
                            .isEqualTo(2);
                    Eventually.await(() -> keepAlive.of("two") >= 20, 30_000);

                    // Reload 2: invalid (line 16, the filter: the file has two listeners); generation 2 keeps serving.
                    String valid = Files.readString(file);
                    Files.writeString(file, valid.replace("kind=\"upsert-header\"", "kind=\"no-such-filter\""));
                    signal(river, "HUP");
                    river.awaitOutput("reload 2 failed: river.kdl:16:", false);
                    river.awaitOutput("; still serving generation 2", false);
                    int perRequestAt = perRequest.ok.get();
                    awaitMore(perRequest, perRequestAt, 20);
                    assertThat(perRequest.of("two")).isGreaterThanOrEqualTo(40);

                    // Reload 3: only the header changes; the upstream's pooled connections carry on.
                    int connectsBefore = second.connectionsAccepted();
                    Files.writeString(file, valid.replace("value=\"two\"", "value=\"three\""));
                    signal(river, "HUP");
                    river.awaitOutput("reload 3: ok in ", false);
                    Eventually.await(() -> perRequest.of("three") >= 20, 30_000);
                    assertThat(second.connectionsAccepted()).as("no new upstream connection for an unchanged connector").isEqualTo(connectsBefore);
                } finally {
                    stop.set(true);
                    for (Thread t : clients) {
                        t.join(60_000);
                    }
                }
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(30, TimeUnit.SECONDS);
                // The keep-alive connection and the WebSocket were generation 1's last: it is released now.
                river.awaitOutput("generation 1 released", false);
                for (Tally t : List.of(keepAlive, perRequest, webSocket, removedListener)) {
                    System.out.println("ReloadIT " + t);
                }
                System.out.println("ReloadIT keep-alive connections opened: " + keepAliveConnections.get());
                assertThat(keepAlive.failed.get()).as(keepAlive.toString()).isZero();
                assertThat(perRequest.failed.get()).as(perRequest.toString()).isZero();
                assertThat(webSocket.failed.get()).as(webSocket.toString()).isZero();
                // The one connection this sequential client may have had in the listener's queue, not yet
                // accepted, when the listener closed is reset by the kernel (documented in operations.md);
                // anything else is a failure.
                long resetAtClose = removedListener.failures.stream().filter(f -> f.contains("Connection reset")).count();
                System.out.println("ReloadIT removed listener: connections reset by the kernel as the listener closed: " + resetAtClose);
                assertThat(resetAtClose).as(removedListener.toString()).isLessThanOrEqualTo(1);
                assertThat(removedListener.failed.get() - resetAtClose).as(removedListener.toString()).isZero();
                river.assertNoLeaks(kept);
            }
        }
    }

    /** Under systemd (Type=notify) a SIGHUP reload says RELOADING=1 and then READY=1 again, even when it fails. */
    @Test
    void sighupTellsSystemdItIsReloadingThenReadyAgain() throws Exception {
        Path file = dir.resolve("river.kdl");
        try (TestOrigin origin = new TestOrigin();
                river.testsupport.NotifySocket systemd = new river.testsupport.NotifySocket("@river-reload-it-" + ProcessHandle.current().pid())) {
            Files.writeString(file, ReloadTest.config("one", origin, 30, "127.0.0.1:0"));
            try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), List.of("-Xrs"),
                    Map.of("NOTIFY_SOCKET", systemd.name()), "--config-kdl", "river.kdl")) {
                river.awaitListening(1);
                systemd.await("READY=1");
                Files.writeString(file, ReloadTest.config("one", origin, 30, "127.0.0.1:0").replace("kind=\"upsert-header\"", "kind=\"nope\""));
                signal(river, "HUP");
                river.awaitOutput("reload 1 failed: river.kdl:15:", false);
                Eventually.await(() -> systemd.received().stream().filter(m -> m.contains("READY=1")).count() == 2, 30_000);
                List<String> messages = systemd.received();
                int reloading = indexOf(messages, "RELOADING=1");
                assertThat(reloading).as(messages.toString()).isPositive();
                assertThat(messages.get(reloading)).contains("MONOTONIC_USEC=");
                assertThat(messages.subList(reloading, messages.size())).anySatisfy(m -> assertThat(m).contains("READY=1"));
            }
        }
    }

    private static int indexOf(List<String> messages, String text) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
