package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/**
 * proxy-wasm plugins written in WAT, run by the real River in front of a real origin: headers both
 * ways, a local response, and misbehaving plugins (a trap in every callback, an endless loop, a load
 * out of bounds, memory growth past its limit) that fail only their own requests.
 */
class WasmPluginTest {
    static Path dir;
    static TestOrigin origin;
    static TestOrigin authOrigin;
    static RiverHarness river;
    static LogCapture log;
    /** Service name → the misbehaving plugin's configuration and extra properties. */
    static final Map<String, String> BAD = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm");
        Path headers = Wat.compile("headers", dir);
        Path bad = Wat.compile("misbehaving", dir);
        Path bodyAndCounter = Wat.compile("body-and-counter", dir);
        Path auth = Wat.compile("auth", dir);
        Path pairs = Wat.compile("pairs", dir);
        authOrigin = new TestOrigin();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // nothing listens there once closed
        }
        origin = new TestOrigin();
        log = LogCapture.of("river.modules.wasm");
        BAD.put("trap-configure", "config=\"tc\"");
        BAD.put("trap-create", "config=\"tx\"");
        BAD.put("trap-request", "config=\"tq\"");
        BAD.put("trap-response", "config=\"ts\"");
        BAD.put("trap-done", "config=\"td\"");
        BAD.put("trap-log", "config=\"tg\"");
        BAD.put("loop", "config=\"lq\" call-timeout-ms=50");
        BAD.put("out-of-bounds", "config=\"oq\"");
        BAD.put("grow", "config=\"gq\" max-memory-pages=4");
        BAD.put("host-pointer", "config=\"pq\"");
        BAD.put("fail-open", "config=\"tq\" fail-open=true");
        StringBuilder kdl = new StringBuilder("system {\n  threads-per-service 2\n}\nservices {\n");
        kdl.append(service("plain", ""));
        kdl.append(service("headers", "wasm \"headers\" path=\"" + headers + "\""));
        kdl.append(service("auth", "wasm \"auth\" path=\"" + auth + "\" {\n        upstream \"auth\" \"" + authOrigin.address() + "\"\n      }"));
        kdl.append(service("auth-down", "wasm \"auth-down\" path=\"" + auth + "\" {\n        upstream \"auth\" \"127.0.0.1:" + closedPort + "\"\n      }"));
        kdl.append(service("pairs", "wasm \"pairs\" path=\"" + pairs + "\""));
        kdl.append(service("counter", "wasm \"counter\" path=\"" + bodyAndCounter + "\""));
        for (Map.Entry<String, String> e : BAD.entrySet()) {
            kdl.append(service(e.getKey(), "wasm \"" + e.getKey() + "\" path=\"" + bad + "\" " + e.getValue()));
        }
        river = RiverHarness.start(kdl.append("}\n").toString());
    }

    private static String service(String name, String plugin) {
        return "  " + name + " {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin.address()
                + "\"\n    }\n" + (plugin.isEmpty() ? "" : "    plugins {\n      " + plugin + "\n    }\n") + "  }\n";
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(river, origin, authOrigin, log);
    }

    private static RawHttp.Response get(String service, String path, String extraHeaders) throws Exception {
        return river.get(service, path, extraHeaders);
    }

    @Test
    void headersAreAddedAndRemovedBothWays() throws Exception {
        RawHttp.Response r = get("headers", "/hello?x=1", "x-remove-me: please\r\nx-keep: yes\r\n");
        assertThat(r.status()).isEqualTo(200);
        TestOrigin.Seen seen = origin.lastSeen();
        assertThat(seen.headers().get("x-wasm")).isEqualTo("added");
        assertThat(seen.headers().get("x-wasm-path")).as("the request.path property").isEqualTo("/hello?x=1");
        assertThat(seen.headers().contains("x-remove-me")).isFalse();
        assertThat(seen.headers().get("x-keep")).isEqualTo("yes");
        assertThat(r.headers()).containsEntry("x-wasm-response", "yes").doesNotContainKey("x-origin");
        log.await("wasm plugin \"headers\": request headers seen");
    }

    @Test
    void headerMapsAreReadWholeWithPseudoHeadersFirstAndByNameWhateverItsCase() throws Exception {
        RawHttp.Response r = get("pairs", "/p?q=1", "X-Case: MiXed\r\nX-Two: a\r\nx-two: b\r\n");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-got-case")).as("looked up as X-Case").isEqualTo("MiXed");
        assertThat(origin.lastSeen().headers().get("x-got-path")).as(":PATH").isEqualTo("/p?q=1");
        java.util.List<Map.Entry<String, String>> request = Abi.deserialize(r.body());
        assertThat(request).as(r.text()).isNotNull();
        assertThat(request.subList(0, 4)).containsExactly(Map.entry(":method", "GET"), Map.entry(":path", "/p?q=1"),
                Map.entry(":authority", "example.test"), Map.entry(":scheme", "http"));
        assertThat(request).contains(Map.entry("x-case", "MiXed"), Map.entry("x-two", "a"), Map.entry("x-two", "b"))
                .allSatisfy(e -> assertThat(e.getKey()).isEqualTo(e.getKey().toLowerCase(java.util.Locale.ROOT)));
        int end = Abi.serialize(request).length; // the request's encoding, then the response's
        java.util.List<Map.Entry<String, String>> response = Abi.deserialize(java.util.Arrays.copyOfRange(r.body(), end, r.body().length));
        assertThat(response).isNotNull();
        assertThat(response.get(0)).isEqualTo(Map.entry(":status", "200"));
        assertThat(response).anySatisfy(e -> assertThat(e.getKey()).isEqualTo("content-length"));
        assertThat(Abi.serialize(response).length).as("nothing after the two encodings").isEqualTo(r.body().length - end);
    }

    @Test
    void aRequestIsBlockedByAHeaderWithALocalResponse() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = get("headers", "/secret", "x-block: 1\r\n");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text()).isEqualTo("blocked by wasm\n");
        assertThat(origin.requestsReceived()).as("a blocked request never reaches the origin").isEqualTo(before);
        assertThat(r.headers()).as("the plugin's response phase runs for its own answer too").containsEntry("x-wasm-response", "yes");
    }

    @Test
    void aRequestPausesForACallOutAndResumesOrIsRejectedOnItsAnswer() throws Exception {
        int authBefore = authOrigin.requestsReceived();
        int before = origin.requestsReceived();
        RawHttp.Response allowed = get("auth", "/private", "x-token: t\r\n");
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(authOrigin.lastSeen().uri()).isEqualTo("/status?code=200");
        assertThat(origin.lastSeen().uri()).isEqualTo("/private");
        RawHttp.Response denied = get("auth", "/private", "");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.text()).isEqualTo("denied by auth\n");
        assertThat(authOrigin.lastSeen().uri()).isEqualTo("/status?code=403");
        assertThat(authOrigin.requestsReceived()).isEqualTo(authBefore + 2);
        assertThat(origin.requestsReceived()).as("only the allowed request reached the origin").isEqualTo(before + 1);
    }

    @Test
    void aFailedCallOutIsAnsweredToThePlugin() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = get("auth-down", "/private", "x-token: t\r\n");
        assertThat(r.status()).as("the plugin saw no answer and refused").isEqualTo(403);
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void aResponseBodyIsRewritten() throws Exception {
        RawHttp.Response r = get("counter", "/lower/case?q=abc", "");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("GET /LOWER/CASE?Q=ABC").isEqualTo(r.text().toUpperCase(java.util.Locale.ROOT));
        assertThat(r.headers()).doesNotContainKey("content-length").containsEntry("transfer-encoding", "chunked");
    }

    @Test
    void aCounterInSharedDataIsSharedByTheVmsOfEveryThread() throws Exception {
        int first = Integer.parseInt(get("counter", "/", "").status() == 200 ? origin.lastSeen().headers().get("x-count") : "-1");
        for (int i = 1; i <= 9; i++) {
            assertThat(get("counter", "/", "").status()).isEqualTo(200);
            assertThat(origin.lastSeen().headers().get("x-count")).isEqualTo(Integer.toString(first + i));
        }
        // Connections alternate between the service's two event loops: both made a VM, one counter.
        assertThat(log.lines().stream().filter(l -> l.contains("wasm plugin \"counter\": VM instantiated on"))
                .map(l -> l.replaceAll(".* on (\\S+) in .*", "$1")).distinct().count()).isEqualTo(2);
    }

    @Test
    void aTrapInTheRequestPathFailsThatRequestWith500AndTheVmIsReplaced() throws Exception {
        for (String service : new String[] {"trap-configure", "trap-create", "trap-request", "trap-response"}) {
            int failuresBefore = log.count("wasm plugin \"" + service + "\" failed");
            for (int i = 0; i < 2; i++) {
                assertThat(get(service, "/", "").status()).as(service).isEqualTo(500);
            }
            log.await("wasm plugin \"" + service + "\" failed", failuresBefore + 2);
            assertThat(get("plain", "/", "").status()).as("a service without plugins serves on").isEqualTo(200);
        }
        assertThat(log.count("wasm plugin \"trap-configure\" failed in instantiation")).isGreaterThanOrEqualTo(2);
        assertThat(log.lines()).anyMatch(l -> l.contains("\"trap-request\" failed in proxy_on_request_headers") && l.contains("unreachable"));
    }

    @Test
    void aFailureInTheResponseHeadersIsLoggedOnce() throws Exception {
        try (LogCapture all = LogCapture.of("river")) {
            assertThat(get("trap-response", "/once", "").status()).isEqualTo(500);
            // Both the plugin's warning and the engine's would be written before the answer went out.
            assertThat(all.lines().stream().filter(l -> l.contains("trap-response") && l.contains("failed"))).as(all.lines().toString())
                    .hasSize(1);
        }
    }

    @Test
    void aTrapAfterTheResponseIsLoggedAndCountedOnly() throws Exception {
        for (String service : new String[] {"trap-done", "trap-log"}) {
            int before = log.count("wasm plugin \"" + service + "\" failed");
            assertThat(get(service, "/", "").status()).as(service).isEqualTo(200);
            assertThat(get(service, "/", "").status()).as(service + ", on a new VM").isEqualTo(200);
            log.await("wasm plugin \"" + service + "\" failed in proxy_on_done/proxy_on_log", before + 2);
        }
    }

    @Test
    void anEndlessLoopIsInterruptedAtItsBudget() throws Exception {
        assertThat(get("loop", "/", "").status()).isEqualTo(500);
        assertThat(log.await("wasm plugin \"loop\" failed in proxy_on_request_headers")).contains("Interrupted");
        assertThat(get("loop", "/", "").status()).as("the next request runs on a new VM, and fails the same way").isEqualTo(500);
        assertThat(get("plain", "/", "").status()).isEqualTo(200);
    }

    @Test
    void aLoadOutsideThePluginsMemoryTraps() throws Exception {
        assertThat(get("out-of-bounds", "/", "").status()).isEqualTo(500);
        assertThat(log.await("wasm plugin \"out-of-bounds\" failed in proxy_on_request_headers")).contains("out of bounds");
    }

    @Test
    void aHostFunctionNeverReadsOutsideThePluginsMemory() throws Exception {
        // The plugin passes proxy_log a pointer past its memory and traps unless told InvalidMemoryAccess.
        assertThat(get("host-pointer", "/", "").status()).isEqualTo(200);
        assertThat(log.count("wasm plugin \"host-pointer\" failed")).isZero();
    }

    @Test
    void memoryCannotGrowPastItsLimit() throws Exception {
        assertThat(get("grow", "/", "").status()).isEqualTo(500);
        // The plugin grew page by page until refused, then loaded just past the end: the limit (4 pages) held.
        assertThat(log.await("wasm plugin \"grow\" failed in proxy_on_request_headers")).contains("out of bounds");
    }

    @Test
    void failuresAreCountedByKind() throws Exception {
        String[][] cases = {{"loop", "timeout"}, {"out-of-bounds", "memory"}, {"trap-configure", "instantiation"}, {"trap-request", "trap"}};
        for (String[] c : cases) {
            assertThat(get(c[0], "/", "").status()).as(c[0]).isEqualTo(500);
            Scrape s = Scrape.of(river.server().metrics().registry());
            assertThat(s.sum("river_wasm_plugin_failures_total", "plugin", c[0], "kind", c[1])).as(c[0]).isGreaterThanOrEqualTo(1);
            assertThat(s.sum("river_wasm_plugin_failures_total", "plugin", c[0])).as(c[0] + ": of that kind only")
                    .isEqualTo(s.sum("river_wasm_plugin_failures_total", "plugin", c[0], "kind", c[1]));
        }
    }

    @Test
    void aFailOpenPluginLetsTheRequestPass() throws Exception {
        int before = origin.requestsReceived();
        assertThat(get("fail-open", "/open", "").status()).isEqualTo(200);
        assertThat(origin.requestsReceived()).isEqualTo(before + 1);
        assertThat(log.await("wasm plugin \"fail-open\" failed")).contains("fail-open");
    }
}
