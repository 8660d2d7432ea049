package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.admin.AdminServer;
import river.config.AdminConfig;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.ListenAddress;
import river.config.SystemOverrides;
import river.server.InheritedListeners;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;

/**
 * What a plugin shows and runs besides requests, with the real River, a real origin and the real admin
 * listener: its root id, its metrics and River's failure counter on {@code /metrics}, its entry in
 * {@code /config}, timers (ticking, stopping, trapping, cancelled on reload) and shared queues (ops.wat).
 */
class WasmOpsTest {
    static Path dir;
    static Path ops;
    static TestOrigin origin;
    static RiverHarness river;
    static AdminServer admin;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm-ops");
        ops = Wat.compile("ops", dir);
        origin = new TestOrigin();
        log = LogCapture.of("river.modules.wasm");
        river = RiverHarness.start("system {\n  threads-per-service 2\n}\nservices {\n"
                + service("ops", "config=\"N\" root-id=\"ops_root\"") + service("named", "config=\"N\"")
                + service("ticker", "config=\"T-ticker\"") + service("stopper", "config=\"S\"") + service("tick-trap", "config=\"X\"")
                + service("queue", "config=\"Q\" call-timeout-ms=2000") + "}\n");
        admin = AdminServer.start(new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.empty(), true), river.server(),
                CompletableFuture::new, InheritedListeners.none());
    }

    private static String service(String name, String options) {
        return "  " + name + " {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin.address()
                + "\"\n    }\n    plugins {\n      wasm \"" + name + "\" path=\"" + ops + "\" " + options + "\n    }\n  }\n";
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(admin, river, origin, log);
    }

    private static String adminGet(String path) throws Exception {
        try (RawHttp raw = new RawHttp(((InetSocketAddress) admin.listener().localAddress()).getPort())) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            return r.text();
        }
    }

    private static Scrape metrics() throws Exception {
        return new Scrape(adminGet("/metrics"));
    }

    private static double metric(String name, String plugin, String... labels) throws Exception {
        String[] all = new String[labels.length + 2];
        all[0] = "plugin";
        all[1] = plugin;
        System.arraycopy(labels, 0, all, 2, labels.length);
        return metrics().sum(name, all);
    }

    /** Scrapes until the condition holds (30 s at most, which only stops a hung test). */
    private static void eventually(java.util.concurrent.Callable<Boolean> condition) throws InterruptedException {
        Eventually.await(() -> {
            try {
                return condition.call();
            } catch (Exception e) {
                return false;
            }
        }, 30_000);
    }

    @Test
    void theRootIdIsTheConfiguredOneOrThePluginsName() throws Exception {
        assertThat(river.get("ops", "/", "").status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-root-id")).isEqualTo("ops_root");
        assertThat(river.get("named", "/", "").status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-root-id")).isEqualTo("named");
    }

    @Test
    void thePluginsMetricsAreOnTheAdminMetricsEndpointWithSanitizedNames() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(river.get("named", "/m", "").status()).isEqualTo(200);
        }
        Scrape s = metrics();
        double requests = s.sum("wasm_ops_requests_total", "service", "named", "plugin", "named");
        assertThat(requests).as(s.text()).isGreaterThanOrEqualTo(3);
        assertThat(s.sum("wasm_ops_gauge", "plugin", "named")).isEqualTo(7);
        assertThat(s.sum("wasm_ops_hist_count", "plugin", "named")).isEqualTo(requests);
        assertThat(s.sum("wasm_ops_hist_sum", "plugin", "named")).isEqualTo(42 * requests);
        assertThat(s.has("river_wasm_plugin_failures_total", "plugin", "named", "kind", "timeout")).isTrue();
        assertThat(s.sum("river_wasm_plugin_failures_total", "plugin", "named")).isZero();
    }

    @Test
    void configShowsThePluginWithItsRootIdAndItsConfigurationBySizeOnly() throws Exception {
        String config = adminGet("/config");
        assertThat(config).contains("\"root-id\" : \"ops_root\"", "\"configuration\" : \"[redacted] 1 bytes\"", "\"path\" : \"" + ops + "\"");
    }

    @Test
    void eachVmTicksOnItsLoopAndAPeriodOfZeroStopsIt() throws Exception {
        // The VMs were made at load (one per loop), and set their ticks then.
        log.await("wasm plugin \"ticker\": T-ticker", 3);
        log.await("wasm plugin \"stopper\": stopped", 2);
        // A tick after the stop would trap (counted); let the ticker tick five more periods.
        log.await("wasm plugin \"ticker\": T-ticker", log.count("wasm plugin \"ticker\": T-ticker") + 5);
        assertThat(metric("wasm_ops_ticks_total", "stopper")).as("three ticks on each loop's VM").isEqualTo(6);
        assertThat(metric("river_wasm_plugin_failures_total", "stopper")).isZero();
    }

    @Test
    void aTrapInATickReplacesTheVmAndIsCountedAsATrap() throws Exception {
        // Both loops made their VM at load, which ticked with no request and trapped: each VM was dropped.
        assertThat(log.await("wasm plugin \"tick-trap\" failed in proxy_on_tick", 2)).contains("unreachable").doesNotContain("500");
        eventually(() -> metric("river_wasm_plugin_failures_total", "tick-trap", "kind", "trap") == 2);
        assertThat(river.get("tick-trap", "/", "").status()).as("a new VM serves, and ticks").isEqualTo(200);
        log.await("wasm plugin \"tick-trap\" failed in proxy_on_tick", 3);
        eventually(() -> metric("river_wasm_plugin_failures_total", "tick-trap", "kind", "trap") == 3);
        assertThat(metric("river_wasm_plugin_failures_total", "tick-trap", "kind", "timeout")).isZero();
    }

    @Test
    void aSharedQueueIsBoundedAndItsItemsReachTheVmThatRegisteredIt() throws Exception {
        // (A budget of 2 s: filling and draining 1,024 items is two long calls on a loaded machine.)
        // Connections alternate between the service's two loops: the first request makes VM 1 (which
        // registers the queue), the second VM 2 (which resolves it).
        assertThat(river.get("queue", "/", "").status()).isEqualTo(200);
        assertThat(metric("wasm_ops_enqueued", "queue")).as("enqueued until the bound").isEqualTo(SharedQueues.MAX_ITEMS);
        assertThat(metric("wasm_ops_enqueue_status", "queue")).as("then refused").isEqualTo(SharedQueues.INTERNAL_FAILURE);
        eventually(() -> metric("wasm_ops_dequeued_total", "queue") == SharedQueues.MAX_ITEMS);
        assertThat(river.get("queue", "/", "").status()).isEqualTo(200);
        assertThat(metric("wasm_ops_enqueue_vm", "queue")).as("enqueued by the VM on the other loop").isEqualTo(2);
        // VM 1 drains on its loop while VM 2 fills: the bound is on items waiting, so VM 2 may enqueue more.
        double second = metric("wasm_ops_enqueued", "queue");
        assertThat(second).as("the drained queue takes at least as many again").isGreaterThanOrEqualTo(SharedQueues.MAX_ITEMS);
        // Refused at the bound, or (VM 1 already warm, draining as fast) the plugin's own cap of 5,000 reached first.
        assertThat(metric("wasm_ops_enqueue_status", "queue") == SharedQueues.INTERNAL_FAILURE || second == 5000).as("refused, or capped").isTrue();
        eventually(() -> metric("wasm_ops_dequeued_total", "queue") == SharedQueues.MAX_ITEMS + second);
        assertThat(metric("wasm_ops_ready_vm", "queue")).as("dequeued by the VM that registered the queue").isEqualTo(1);
    }

    @Test
    void aReloadStopsTheRetiredGenerationsTicks() throws Exception {
        try (RiverHarness r = RiverHarness.start(reloadable("T-old"))) {
            assertThat(r.get("r", "/", "").status()).isEqualTo(200);
            log.await("wasm plugin \"p\": T-old", 2);
            var outcome = r.server().reload(new ConfigLoader(dir).parse(reloadable("T-new"), "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));
            assertThat(outcome.ok()).as(outcome.toString()).isTrue();
            assertThat(r.get("r", "/", "").status()).isEqualTo(200);
            log.await("wasm plugin \"p\": T-new");
            int old = log.count("wasm plugin \"p\": T-old");
            log.await("wasm plugin \"p\": T-new", log.count("wasm plugin \"p\": T-new") + 5);
            assertThat(log.count("wasm plugin \"p\": T-old")).as("the old VM ticked no more").isEqualTo(old);
        }
    }

    @Test
    void everyLoopMakesItsVmAtLoadSoTicksStartBeforeAnyRequestAndTheFirstRequestMakesNone() throws Exception {
        try (RiverHarness r = RiverHarness.start(reloadable("T-warm", 2, "warm"))) {
            eventually(() -> log.threadsOf("wasm plugin \"warm\": T-warm").size() == 2);
            assertThat(log.count("wasm plugin \"warm\": VM instantiated on")).as("one VM per loop, made at load").isEqualTo(2);
            assertThat(log.threadsOf("wasm plugin \"warm\": VM instantiated on")).isEqualTo(log.threadsOf("wasm plugin \"warm\": T-warm"));
            for (int i = 0; i < 2; i++) {
                assertThat(r.get("r", "/", "").status()).isEqualTo(200); // connections alternate between the two loops
            }
            assertThat(log.count("wasm plugin \"warm\": VM instantiated on")).as("no request made a VM").isEqualTo(2);
            var outcome = r.server().reload(new ConfigLoader(dir).parse(reloadable("T-rewarm", 2, "warm"), "test.kdl", ConfigFormat.KDL,
                    SystemOverrides.none()));
            assertThat(outcome.ok()).as(outcome.toString()).isTrue();
            eventually(() -> log.threadsOf("wasm plugin \"warm\": T-rewarm").size() == 2);
            assertThat(log.count("wasm plugin \"warm\": VM instantiated on")).as("the new generation's VMs, made by the reload").isEqualTo(4);
        }
    }

    @Test
    void aPluginThatRejectsItsConfigurationFailsTheLoadAndTheReloadAtThePlugin() throws Exception {
        String rejecting = reloadable("R", 2, "rejects");
        Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> RiverHarness.start(rejecting).close());
        assertThat(refused).isNotNull();
        int line = 13; // where the wasm node is, in reloadable's text
        assertThat(rejecting.split("\n")[line - 1]).contains("wasm \"rejects\"");
        assertThat(refused.getMessage()).contains(":" + line + ":7: wasm plugin \"rejects\"", "proxy_on_configure rejected the plugin configuration");
        try (RiverHarness r = RiverHarness.start(reloadable("N", 1, "rejects"))) {
            var outcome = r.server().reload(new ConfigLoader(dir).parse(rejecting, "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));
            assertThat(outcome.ok()).as(outcome.toString()).isFalse();
            assertThat(outcome.errors()).anySatisfy(e -> assertThat(e).contains("test.kdl:" + line + ":7: wasm plugin \"rejects\"",
                    "proxy_on_configure rejected the plugin configuration"));
            assertThat(r.get("r", "/", "").status()).as("the running configuration serves on").isEqualTo(200);
        }
        // The tick the rejecting VMs had set never ran (it traps): the rejected VMs were closed with their timers.
        int trapsBefore = log.count("wasm plugin \"rejects\" failed in proxy_on_tick");
        try (RiverHarness r = RiverHarness.start(reloadable("T-after-rejects", 1, "after-rejects"))) {
            log.await("wasm plugin \"after-rejects\": T-after-rejects", 5); // time for a leftover 5 ms tick to have run
        }
        assertThat(trapsBefore).isZero();
        assertThat(log.count("wasm plugin \"rejects\" failed in proxy_on_tick")).isZero();
    }

    private static String reloadable(String config) {
        return reloadable(config, 1, "p");
    }

    private static String reloadable(String config, int threads, String plugin) {
        return "system {\n  threads-per-service " + threads + "\n}\nservices {\n  r {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \""
                + origin.address() + "\"\n    }\n    plugins {\n      wasm \"" + plugin + "\" path=\"" + ops + "\" config=\"" + config + "\"\n    }\n  }\n}\n";
    }
}
