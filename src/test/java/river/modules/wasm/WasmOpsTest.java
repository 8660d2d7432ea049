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
        assertThat(river.get("ticker", "/", "").status()).as("the first request creates the VM, which sets its tick").isEqualTo(200);
        log.await("wasm plugin \"ticker\": T-ticker", 3);
        assertThat(river.get("stopper", "/", "").status()).isEqualTo(200);
        log.await("wasm plugin \"stopper\": stopped");
        // A tick after the stop would trap (counted); let the ticker tick five more periods.
        log.await("wasm plugin \"ticker\": T-ticker", log.count("wasm plugin \"ticker\": T-ticker") + 5);
        assertThat(metric("wasm_ops_ticks_total", "stopper")).isEqualTo(3);
        assertThat(metric("river_wasm_plugin_failures_total", "stopper")).isZero();
    }

    @Test
    void aTrapInATickReplacesTheVmAndIsCountedAsATrap() throws Exception {
        assertThat(river.get("tick-trap", "/", "").status()).isEqualTo(200);
        assertThat(log.await("wasm plugin \"tick-trap\" failed in proxy_on_tick")).contains("unreachable").doesNotContain("500");
        eventually(() -> metric("river_wasm_plugin_failures_total", "tick-trap", "kind", "trap") == 1);
        assertThat(river.get("tick-trap", "/", "").status()).as("a new VM serves, and ticks").isEqualTo(200);
        log.await("wasm plugin \"tick-trap\" failed in proxy_on_tick", 2);
        eventually(() -> metric("river_wasm_plugin_failures_total", "tick-trap", "kind", "trap") == 2);
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
        assertThat(metric("wasm_ops_enqueue_status", "queue")).isEqualTo(SharedQueues.INTERNAL_FAILURE);
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

    private static String reloadable(String config) {
        return "system {\n  threads-per-service 1\n}\nservices {\n  r {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \""
                + origin.address() + "\"\n    }\n    plugins {\n      wasm \"p\" path=\"" + ops + "\" config=\"" + config + "\"\n    }\n  }\n}\n";
    }
}
