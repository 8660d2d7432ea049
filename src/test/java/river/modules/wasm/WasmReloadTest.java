package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** The in-place reload picks up a changed plugin configuration and a changed {@code .wasm} file. */
class WasmReloadTest {
    static Path dir;
    static Path plugin;
    static TestOrigin origin;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm-reload");
        Wat.compile("misbehaving", dir);
        Wat.compile("headers", dir);
        plugin = Files.copy(dir.resolve("misbehaving.wasm"), dir.resolve("plugin.wasm"));
        origin = new TestOrigin();
        river = RiverHarness.start(config("nq"));
    }

    /** The service, its plugin configured with {@code behaviour} (misbehaving.wat's two letters; "nq" does nothing). */
    private static String config(String behaviour) {
        return "services {\n  r {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin.address()
                + "\"\n    }\n    plugins {\n      wasm \"p\" path=\"" + plugin + "\" config=\"" + behaviour + "\"\n    }\n  }\n}\n";
    }

    private static void reload(String behaviour) throws Exception {
        var outcome = river.server().reload(new ConfigLoader(dir).parse(config(behaviour), "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));
        assertThat(outcome.ok()).as(outcome.toString()).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(river, origin);
    }

    @Test
    void aChangedConfigurationAndAChangedFileTakeEffect() throws Exception {
        assertThat(river.get("r", "/", "").status()).isEqualTo(200);
        reload("tq");
        assertThat(river.get("r", "/", "").status()).as("the new configuration makes the plugin trap").isEqualTo(500);
        Files.copy(dir.resolve("headers.wasm"), plugin, StandardCopyOption.REPLACE_EXISTING);
        reload("tq");
        assertThat(river.get("r", "/", "").status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-wasm")).as("the new module runs").isEqualTo("added");
    }

    @Test
    void aRequestInFlightDuringAReloadFinishesOnTheOldModule() throws Exception {
        Path old = Wat.compile("version", dir, "VERSION", "old");
        Path changed = Wat.compile("version", dir, "VERSION", "new");
        Path file = Files.copy(old, dir.resolve("version.wasm"));
        String kdl = "services {\n  v {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin.address()
                + "\"\n    }\n    plugins {\n      wasm \"v\" path=\"" + file + "\"\n    }\n  }\n}\n";
        try (RiverHarness r = RiverHarness.start(kdl); RawHttp held = new RawHttp(r.port("v"))) {
            int before = origin.heldRequests();
            held.send("GET /held HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
            Eventually.await(() -> origin.heldRequests() == before + 1, 30_000);
            Files.copy(changed, file, StandardCopyOption.REPLACE_EXISTING);
            var outcome = r.server().reload(new ConfigLoader(dir).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));
            assertThat(outcome.ok()).as(outcome.toString()).isTrue();
            assertThat(r.get("v", "/", "").headers()).as("a new request runs the new module").containsEntry("x-plugin-version", "new");
            origin.releaseHeld();
            var answer = held.read();
            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.headers()).as("the held request's response phase ran on the old VM").containsEntry("x-plugin-version", "old");
        }
    }
}
