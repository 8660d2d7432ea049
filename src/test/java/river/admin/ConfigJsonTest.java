package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;

/** What {@code GET /config} shows of a configuration: its model as JSON, every secret redacted. */
class ConfigJsonTest {
    private static RiverConfig parse(String kdl) throws Exception {
        return new ConfigLoader(Path.of("").toAbsolutePath()).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    @Test
    void urlPasswordsSecretHeadersAndSecretQueryParametersAreRedacted() throws Exception {
        JsonNode json = ConfigJson.of(parse("""
                services {
                  proxy {
                    listeners { "127.0.0.1:8080"; "unix:/run/river.sock" }
                    connectors { "127.0.0.1:8000" }
                    path-control {
                      upstream-request {
                        filter kind="upsert-header" key="Authorization" value="Bearer abc123"
                        filter kind="append-header" key="X-Api-Key" value="k-456"
                        filter kind="upsert-header" key="x-proxy-friend" value="river"
                      }
                      request-filters {
                        filter kind="redirect" pattern="^/old" location="https://u:pw-789@example.com/new?token=t-000&x=1" status=302
                      }
                    }
                    rate-limiting { redis "redis://:only-password@127.0.0.1:6379" key-prefix="river" }
                  }
                }
                """));
        String text = json.toString();
        assertThat(text).doesNotContain("abc123", "k-456", "only-password", "pw-789", "t-000");
        assertThat(text).contains("\"value\":\"river\"", "redis://:[redacted]@127.0.0.1:6379",
                "https://u:[redacted]@example.com/new?token=[redacted]&x=1");
        JsonNode service = json.path("services").get(0);
        assertThat(service.path("listeners").get(0).path("address").asText()).isEqualTo("127.0.0.1:8080");
        assertThat(service.path("listeners").get(1).path("address").asText()).isEqualTo("unix:/run/river.sock");
        assertThat(service.path("handler").path("kind").asText()).isEqualTo("proxy");
        assertThat(service.path("path-control").path("upstream-request").get(0).path("kind").asText()).isEqualTo("upsert-header");
        assertThat(json.path("system").path("threads-per-service").asInt()).isEqualTo(8);
    }

    @Test
    void aPluginShowsItsOptionsAndOnlyTheSizeOfItsConfiguration(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path wasm = java.nio.file.Files.write(dir.resolve("auth.wasm"), river.testsupport.TinyWasm.module("proxy_abi_version_0_2_1"));
        JsonNode json = ConfigJson.of(parse("services {\n  api {\n    listeners { \"127.0.0.1:8080\" }\n    connectors { \"127.0.0.1:8000\" }\n"
                + "    plugins {\n      wasm \"auth\" path=\"" + wasm + "\" root-id=\"auth_root\" call-timeout-ms=20 config=\"key=hunter2\" {\n"
                + "        vm-configuration \"vm-secret\"\n        upstream \"idp\" \"127.0.0.1:9100\"\n      }\n    }\n  }\n}\n"));
        assertThat(json.toString()).doesNotContain("hunter2", "vm-secret");
        JsonNode plugin = json.path("services").get(0).path("plugins").get(0);
        assertThat(plugin.path("name").asText()).isEqualTo("auth");
        assertThat(plugin.path("path").asText()).isEqualTo(wasm.toString());
        assertThat(plugin.path("root-id").asText()).isEqualTo("auth_root");
        assertThat(plugin.path("call-timeout-ms").asInt()).isEqualTo(20);
        assertThat(plugin.path("max-memory-pages").asInt()).isEqualTo(256);
        assertThat(plugin.path("configuration").asText()).isEqualTo("[redacted] 11 bytes");
        assertThat(plugin.path("vm-configuration").asText()).isEqualTo("[redacted] 9 bytes");
        assertThat(plugin.path("upstreams").path("idp").asText()).isEqualTo("127.0.0.1:9100");
    }

    @Test
    void userInformationWithoutAColonIsAllPassword() {
        assertThat(ConfigJson.redactInText("redis://secret@host:6379/0")).isEqualTo("redis://[redacted]@host:6379/0");
        assertThat(ConfigJson.redactInText("no url here: a@b")).isEqualTo("no url here: a@b");
        assertThat(ConfigJson.redactInText("http://h/p?api-key=1&password=2&page=3")).isEqualTo("http://h/p?api-key=[redacted]&password=[redacted]&page=3");
    }

    @Test
    void namesBecomeKebabCase() {
        assertThat(ConfigJson.kebab("threadsPerService")).isEqualTo("threads-per-service");
        assertThat(ConfigJson.kebab("UpsertHeader")).isEqualTo("upsert-header");
        assertThat(ConfigJson.kebab("h2c")).isEqualTo("h2c");
    }
}
