package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.testsupport.TinyWasm;

/** What {@code --validate-configs} and the start-up summary print of a service's plugins. */
class ConfigSummaryTest {
    @Test
    void eachPluginIsListedWithItsOptionsAndTheSizesOfItsConfigurations(@TempDir Path dir) throws Exception {
        Path wasm = Files.write(dir.resolve("auth.wasm"), TinyWasm.module("proxy_abi_version_0_2_1"));
        String kdl = "services {\n  api {\n    listeners { \"127.0.0.1:8080\" }\n    connectors { \"127.0.0.1:8000\" }\n    plugins {\n"
                + "      wasm \"auth\" path=\"" + wasm + "\" config=\"key=hunter2\" fail-open=true {\n        upstream \"idp\" \"127.0.0.1:9100\"\n      }\n"
                + "      wasm \"tags\" path=\"" + wasm + "\" root-id=\"tags_root\" max-memory-pages=32\n    }\n  }\n}\n";
        String summary = ConfigSummary.render(new ConfigLoader(dir).parse(kdl, "river.kdl", ConfigFormat.KDL, SystemOverrides.none()));
        assertThat(summary).doesNotContain("hunter2")
                .contains("  wasm auth " + wasm + " root-id=auth config=11B vm-config=0B fail-open=true max-memory-pages=256 call-timeout-ms=100 max-body-bytes=1048576"
                        + " pause-timeout-ms=60000 upstream=idp=127.0.0.1:9100\n")
                .contains("  wasm tags " + wasm + " root-id=tags_root config=0B vm-config=0B fail-open=false max-memory-pages=32 call-timeout-ms=100 max-body-bytes=1048576"
                        + " pause-timeout-ms=60000\n");
    }

    @Test
    void theAcmeLineNamesTheProfileAndTheRenewalRule(@TempDir Path dir) throws Exception {
        String service = "services {\n  web {\n    listeners { \"127.0.0.1:8443\" acme-domains=\"example.com\" }\n    connectors { \"127.0.0.1:8000\" }\n  }\n}\n";
        String acme = "acme {\n  accept-terms-of-service true\n  store-dir \"/var/lib/river/acme\"\n";
        String shortlived = ConfigSummary.render(new ConfigLoader(dir).parse(acme + "  profile \"shortlived\"\n}\n" + service, "river.kdl",
                ConfigFormat.KDL, SystemOverrides.none()));
        assertThat(shortlived).contains(" key-type=ecdsa-p256 renew-before-expiry=min(30d,lifetime/3) profile=shortlived\n");
        String plain = ConfigSummary.render(new ConfigLoader(dir).parse(acme + "  renew-before-expiry-days 2\n}\n" + service, "river.kdl",
                ConfigFormat.KDL, SystemOverrides.none()));
        assertThat(plain).contains(" key-type=ecdsa-p256 renew-before-expiry-days=2\n").doesNotContain("profile=");
    }
}
