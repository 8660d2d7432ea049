package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * A published SDK example, unmodified: the Hello World plugin of {@code @solo-io/proxy-runtime}'s README
 * (src/test/assemblyscript/add-header), built here with AssemblyScript from npm, run by River.
 */
class WasmAssemblyScriptTest {
    static TestOrigin origin;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Wat.onPath("npm") && Wat.onPath("npx"), "npm is not installed: the AssemblyScript plugin test needs it (Debian package npm)");
        Path dir = Files.createTempDirectory("river-as");
        Path source = Path.of("src/test/assemblyscript/add-header");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = dir.resolve(source.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Wat.run(dir, 600, "npm", "install", "--no-audit", "--no-fund");
        Wat.run(dir, 300, "npx", "asc", "assembly/index.ts", "-b", "build/optimized.wasm", "--use", "abort=abort_proc_exit", "--optimize");
        Path wasm = dir.resolve("build/optimized.wasm");
        origin = new TestOrigin();
        // The example registers its root context as "add_header": River's plugin_root_id is the plugin's name.
        river = RiverHarness.start("services {\n" + service("plain", "wasm \"add_header\" path=\"" + wasm + "\"")
                + service("configured", "wasm \"add_header\" path=\"" + wasm + "\" config=\"what ever you want\"") + "}\n");
    }

    private static String service(String name, String plugin) {
        return "  " + name + " {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin.address()
                + "\"\n    }\n    plugins {\n      " + plugin + "\n    }\n  }\n";
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(river, origin);
    }

    @Test
    void theReadmeExampleAddsItsResponseHeader() throws Exception {
        var plain = river.get("plain", "/", "");
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.headers()).containsEntry("hello", "world!");
        assertThat(plain.text()).as("the body passes through its proxy_on_response_body").startsWith("GET /\n");
        var configured = river.get("configured", "/", "");
        assertThat(configured.headers()).as("the plugin configuration reaches on_configure").containsEntry("hello", "what ever you want");
    }
}
