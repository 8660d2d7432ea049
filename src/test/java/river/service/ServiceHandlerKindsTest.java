package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.ServiceConfig;
import river.config.ServiceHandler;
import river.config.SystemOverrides;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Java 17 has no exhaustive switch over a sealed type, so RiverServer refuses a kind of handler it
 * has no branch for: this starts a service of every permitted kind, so a new kind fails here until
 * it has both a sample below and a branch there.
 */
class ServiceHandlerKindsTest {
    @TempDir
    Path dir;

    @Test
    void aServiceOfEveryKindOfHandlerStartsAndAnswers() throws Exception {
        Files.createDirectories(dir.resolve("site"));
        Files.writeString(dir.resolve("site/index.html"), "home");
        try (TestOrigin origin = new TestOrigin()) {
            Map<Class<?>, String> samples = new LinkedHashMap<>();
            samples.put(ServiceHandler.Proxy.class, """
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s"
                        }
                    }
                    """.formatted(origin.address()));
            samples.put(ServiceHandler.Routed.class, """
                    routed {
                        listeners {
                            "127.0.0.1:0"
                        }
                        routes {
                            route "/" {
                                connectors {
                                    "%s"
                                }
                            }
                        }
                    }
                    """.formatted(origin.address()));
            samples.put(ServiceHandler.FileServer.class, """
                    files {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                    """);
            assertThat(samples.keySet()).as("a sample service for every kind of handler")
                    .containsExactlyInAnyOrder(ServiceHandler.class.getPermittedSubclasses());

            String kdl = "services {\n" + String.join("", samples.values()) + "}\n";
            Map<Class<?>, String> parsed = new ConfigLoader(dir).parse(kdl, "kinds.kdl", ConfigFormat.KDL, SystemOverrides.none())
                    .services().stream().collect(Collectors.toMap(s -> s.handler().getClass(), ServiceConfig::name));
            assertThat(parsed.keySet()).as("each sample is of its kind").isEqualTo(Set.copyOf(samples.keySet()));

            try (RiverHarness river = RiverHarness.start(kdl, dir)) {
                for (String service : parsed.values()) {
                    try (RawHttp raw = new RawHttp(river.port(service))) {
                        raw.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
                        assertThat(raw.read().status()).as(service).isEqualTo(200);
                    }
                }
            }
            assertThat(origin.requestsReceived()).as("proxy and routed reached the origin").isEqualTo(2);
        }
    }
}
