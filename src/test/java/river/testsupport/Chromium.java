package river.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Headless Chromium driven through the Chrome DevTools Protocol over a {@link WebSocket}: started
 * with a fresh profile in a directory the caller owns, its DevTools endpoint read from its stderr,
 * commands answered within {@link #TIMEOUT}, events kept (at most {@link #MAX_EVENTS}) and waited
 * for by notification. {@link #close()} ends the browser and every process it started.
 */
public final class Chromium implements AutoCloseable {
    /** Debian's package; {@code .ci/run} installs it. */
    public static final Path BINARY = Path.of("/usr/bin/chromium");
    /** The bound of every command and every wait. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final int MAX_EVENTS = 20_000;
    private static final int MAX_MESSAGE_CHARS = 16 << 20;
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path stderr;
    private volatile WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Every event received, in order; guarded by itself, waited on with its monitor. */
    private final List<JsonNode> events = new ArrayList<>();
    private volatile String failure;

    private Chromium(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
    }

    /** Whether the browser is installed (tests that need it are skipped otherwise). */
    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /**
     * Starts headless Chromium with its profile, stdout and stderr in {@code dir} (a new, empty
     * directory), with {@code moreSwitches} after the usual ones, and connects to its DevTools endpoint.
     */
    public static Chromium start(Path dir, String... moreSwitches) throws IOException, InterruptedException {
        Path profile = Files.createDirectories(dir.resolve("profile"));
        Path out = dir.resolve("chromium.out");
        Path err = dir.resolve("chromium.err");
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-proxy-server", "--mute-audio", "--user-data-dir=" + profile, "--remote-debugging-port=0"));
        command.addAll(List.of(moreSwitches));
        command.add("about:blank");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        Chromium chromium = new Chromium(process, err);
        boolean started = false;
        try {
            if (!FileWait.awaitContains(err, "DevTools listening on ", process::isAlive)) {
                throw new AssertionError("chromium " + (process.isAlive() ? "did not open DevTools" : "exited") + ":\n" + Files.readString(err));
            }
            Matcher m = LISTENING.matcher(Files.readString(err));
            if (!m.find()) {
                throw new AssertionError("no DevTools address in chromium's stderr:\n" + Files.readString(err));
            }
            chromium.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(TIMEOUT)
                    .buildAsync(URI.create(m.group(1)), chromium.new Listener()).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            started = true;
            return chromium;
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("could not connect to chromium's DevTools" + chromium.diagnostics(), e);
        } finally {
            if (!started) {
                kill(process);
            }
        }
    }

    /**
     * The switches that make Chromium reach {@code host} at 127.0.0.1 and take {@code certificate}
     * (PEM) as valid for it, as a trusted CA's would be (so that, unlike with
     * {@code --ignore-certificate-errors}, its HTTP cache works as for any secure site).
     */
    public static String[] trusting(String host, Path certificate) throws IOException, java.security.GeneralSecurityException {
        java.security.cert.Certificate cert;
        try (var in = Files.newInputStream(certificate)) {
            cert = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        byte[] spki = java.security.MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
        return new String[] {"--host-resolver-rules=MAP " + host + " 127.0.0.1",
            "--ignore-certificate-errors-spki-list=" + java.util.Base64.getEncoder().encodeToString(spki)};
    }

    /** Sends a browser-level command ({@code sessionId} null) or one to an attached target; returns its result. */
    public JsonNode call(String sessionId, String method, ObjectNode params) throws IOException, InterruptedException {
        int id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params != null ? params : JSON.createObjectNode());
        if (sessionId != null) {
            message.put("sessionId", sessionId);
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            synchronized (socket) { // one send at a time, as WebSocket asks
                socket.sendText(JSON.writeValueAsString(message), true).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            JsonNode reply = answer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (reply.has("error")) {
                throw new AssertionError(method + " failed: " + reply.get("error"));
            }
            return reply.path("result");
        } catch (ExecutionException e) {
            throw new AssertionError(method + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(method + " got no answer in " + TIMEOUT + diagnostics());
        } finally {
            pending.remove(id);
        }
    }

    /** A new parameter object for {@link #call}. */
    public static ObjectNode params() {
        return JSON.createObjectNode();
    }

    /** Opens a new tab on {@code about:blank} and attaches to it; returns the session id for {@link #call}. */
    public String openTab() throws IOException, InterruptedException {
        String targetId = call(null, "Target.createTarget", params().put("url", "about:blank")).get("targetId").asText();
        return call(null, "Target.attachToTarget", params().put("targetId", targetId).put("flatten", true)).get("sessionId").asText();
    }

    /** The number of events received so far, a mark for {@link #events(int, String)} and {@link #awaitEvent}. */
    public int eventCount() {
        synchronized (events) {
            return events.size();
        }
    }

    /** The events named {@code method} received since {@code from}, each the whole message ({@code params}, {@code sessionId}). */
    public List<JsonNode> events(int from, String method) {
        synchronized (events) {
            return events.subList(from, events.size()).stream().filter(e -> e.path("method").asText().equals(method)).toList();
        }
    }

    /** Waits for the first event since {@code from} that {@code test} accepts; fails after {@link #TIMEOUT}. */
    public JsonNode awaitEvent(int from, String what, Predicate<JsonNode> test) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        synchronized (events) {
            int next = from;
            while (true) {
                for (; next < events.size(); next++) {
                    if (test.test(events.get(next))) {
                        return events.get(next);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || failure != null) {
                    throw new AssertionError("no " + what + " from chromium in " + TIMEOUT + diagnostics());
                }
                TimeUnit.NANOSECONDS.timedWait(events, left); // woken by each event the listener adds
            }
        }
    }

    private String diagnostics() {
        String text = failure != null ? " (" + failure + ")" : "";
        try {
            return text + "; chromium's stderr:\n" + Files.readString(stderr);
        } catch (IOException e) {
            return text;
        }
    }

    private void received(JsonNode message) {
        if (message.has("id")) {
            CompletableFuture<JsonNode> answer = pending.get(message.get("id").asInt());
            if (answer != null) {
                answer.complete(message);
            }
            return;
        }
        synchronized (events) {
            if (events.size() < MAX_EVENTS) {
                events.add(message);
            } else {
                failure = "more than " + MAX_EVENTS + " events";
            }
            events.notifyAll();
        }
    }

    private void failed(String why) {
        failure = why;
        pending.values().forEach(f -> f.completeExceptionally(new IOException(why)));
        synchronized (events) {
            events.notifyAll();
        }
    }

    /** Asks the browser to close, then kills it and whatever it started that is still running. */
    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> children = process.descendants().toList(); // while they are still its children
        try {
            if (failure == null) {
                call(null, "Browser.close", null);
            }
        } catch (IOException | AssertionError e) {
            // killed below
        } finally {
            socket.abort();
            process.waitFor(10, TimeUnit.SECONDS); // Browser.close ends it
            kill(process, children);
        }
    }

    private static void kill(Process process) throws InterruptedException {
        kill(process, process.descendants().toList());
    }

    /** SIGTERM, then SIGKILL after 10 s, to the browser; SIGKILL to the processes it had started, if still there. */
    private static void kill(Process process, List<ProcessHandle> children) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle child : children) {
            child.destroyForcibly();
            child.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> child).join();
        }
    }

    /** Gathers each text message (which may come in parts) and hands it on in order. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            if (text.length() + data.length() > MAX_MESSAGE_CHARS) {
                failed("a DevTools message longer than " + MAX_MESSAGE_CHARS + " characters");
                webSocket.abort();
                return null;
            }
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                try {
                    received(JSON.readTree(message));
                } catch (IOException e) {
                    failed("not JSON from DevTools: " + e.getMessage());
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            failed("DevTools closed the connection: " + statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failed("DevTools connection failed: " + error);
        }
    }
}
