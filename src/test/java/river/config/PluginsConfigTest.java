package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A service's {@code plugins} block: the model it gives, and a located error for each wrong entry or file. */
class PluginsConfigTest {
    @TempDir
    static Path dir;

    static byte[] module(String export) {
        return river.testsupport.TinyWasm.module(export);
    }

    private static RiverConfig parse(String plugins) throws ConfigException {
        return new ConfigLoader(dir).parse("services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
                + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n    plugins {\n" + plugins + "\n    }\n  }\n}\n",
                "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static List<ConfigError> errors(String plugins) {
        try {
            parse(plugins);
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    private static Path file(String name, byte[] content) throws Exception {
        return Files.write(dir.resolve(name), content);
    }

    @Test
    void pluginsAreReadInOrderWithTheirOptions() throws Exception {
        Path a = file("a.wasm", module("proxy_abi_version_0_2_1"));
        Path b = file("b.wasm", module("proxy_abi_version_0_1_0"));
        RiverConfig c = parse("      wasm \"first\" path=\"" + a + "\" config=\"{\\\"k\\\":1}\" fail-open=true max-memory-pages=32 call-timeout-ms=20 max-body-bytes=4096\n"
                + "      wasm \"second\" path=\"" + b + "\" {\n        configuration \"plain text\"\n        vm-configuration \"vm\"\n      }");
        List<PluginConfig> plugins = c.services().get(0).plugins();
        assertThat(plugins).containsExactly(
                new PluginConfig("first", a, "{\"k\":1}", "", true, 32, 20, java.util.Map.of(), 4096),
                new PluginConfig("second", b, "plain text", "vm", false, PluginConfig.DEFAULT_MAX_MEMORY_PAGES, PluginConfig.DEFAULT_CALL_TIMEOUT_MS));
    }

    @Test
    void aPauseTimeoutIsReadAndDefaultsToAMinute() throws Exception {
        Path a = file("p.wasm", module("proxy_abi_version_0_2_1"));
        RiverConfig c = parse("      wasm \"plain\" path=\"" + a + "\"\n      wasm \"quick\" path=\"" + a + "\" pause-timeout-ms=250");
        assertThat(c.services().get(0).plugins()).extracting(PluginConfig::pauseTimeoutMs).containsExactly(60_000, 250);
    }

    @Test
    void theRootIdIsThePluginsNameUnlessGiven() throws Exception {
        Path a = file("r.wasm", module("proxy_abi_version_0_2_1"));
        RiverConfig c = parse("      wasm \"plain\" path=\"" + a + "\"\n      wasm \"envoy\" path=\"" + a + "\" root-id=\"my_root\"");
        assertThat(c.services().get(0).plugins()).extracting(PluginConfig::rootId).containsExactly("plain", "my_root");
        List<ConfigError> e = errors("      wasm \"x\" path=\"" + a + "\" root-id=3");
        assertThat(e).hasSize(1);
        assertThat(e.get(0).line()).isEqualTo(10);
        assertThat(e.get(0).column()).as("at the value").isEqualTo(("      wasm \"x\" path=\"" + a + "\" root-id=").length() + 1);
        assertThat(e.get(0).message()).contains("root-id expects a string");
    }

    @Test
    void callOutUpstreamsAreNamedAddresses() throws Exception {
        Path a = file("u.wasm", module("proxy_abi_version_0_2_1"));
        RiverConfig c = parse("      wasm \"auth\" path=\"" + a + "\" {\n        upstream \"auth\" \"127.0.0.1:9100\"\n"
                + "        upstream \"v6\" \"[::1]:9200\"\n      }");
        assertThat(c.services().get(0).plugins().get(0).upstreams()).containsEntry("auth", "127.0.0.1:9100").containsEntry("v6", "[::1]:9200");
        List<ConfigError> e = errors("      wasm \"auth\" path=\"" + a + "\" {\n        upstream \"auth\" \"auth.example:80\"\n      }");
        assertThat(e).hasSize(1);
        assertThat(e.get(0).line()).isEqualTo(11);
        assertThat(e.get(0).column()).isEqualTo(25);
        assertThat(e.get(0).message()).contains("not an IP literal and port");
    }

    @Test
    void aMissingFileIsALocatedError() {
        List<ConfigError> e = errors("      wasm \"gone\" path=\"" + dir.resolve("missing.wasm") + "\"");
        assertThat(e).hasSize(1);
        assertThat(e.get(0).line()).isEqualTo(10);
        assertThat(e.get(0).column()).isEqualTo(24);
        assertThat(e.get(0).message()).contains("path", "no readable file");
    }

    @Test
    void aFileThatIsNotWebAssemblyIsALocatedError() throws Exception {
        Path text = file("text.wasm", "not wasm".getBytes(StandardCharsets.US_ASCII));
        List<ConfigError> e = errors("      wasm \"text\" path=\"" + text + "\"");
        assertThat(e).hasSize(1);
        assertThat(e.get(0).line()).isEqualTo(10);
        assertThat(e.get(0).message()).contains("wasm \"text\"", "is not a valid WebAssembly module");
    }

    @Test
    void aModuleWithoutTheAbiIsALocatedError() throws Exception {
        Path plain = file("plain.wasm", module("hello"));
        List<ConfigError> e = errors("      wasm \"plain\" path=\"" + plain + "\"");
        assertThat(e).hasSize(1);
        assertThat(e.get(0).message()).contains("exports no proxy_abi_version_* function");
    }

    @Test
    void wrongEntriesAreLocatedErrors() throws Exception {
        Path a = file("ok.wasm", module("proxy_abi_version_0_2_1"));
        assertThat(errors("      lua \"x\"").get(0).message()).contains("unknown node \"lua\" in plugins", "wasm");
        assertThat(errors("      wasm \"x\"").get(0).message()).contains("needs the property path=");
        assertThat(errors("      wasm \"x\" path=\"" + a + "\" fuel=3").get(0).message()).contains("unknown property \"fuel\"");
        assertThat(errors("      wasm \"x\" path=\"" + a + "\" max-memory-pages=0").get(0).message()).contains("max-memory-pages expects a positive integer");
        assertThat(errors("      wasm \"x\" path=\"" + a + "\" max-memory-pages=20000").get(0).message()).contains("at most 16384");
        assertThat(errors("      wasm \"x\" path=\"" + a + "\" max-body-bytes=-1").get(0).message()).contains("max-body-bytes expects a positive integer");
        assertThat(errors("      wasm \"x\" path=\"" + a + "\" pause-timeout-ms=0").get(0).message()).contains("pause-timeout-ms expects a positive integer");
        List<ConfigError> twice = errors("      wasm \"x\" path=\"" + a + "\"\n      wasm \"x\" path=\"" + a + "\"");
        assertThat(twice).hasSize(1);
        assertThat(twice.get(0).line()).isEqualTo(11);
        assertThat(twice.get(0).message()).contains("plugin \"x\" is defined twice");
    }
}
