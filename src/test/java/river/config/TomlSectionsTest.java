package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sections River's TOML gained beyond River 0.5 (docs/configuration.md): for each, a TOML file and the
 * KDL file it stands for give equal model records, and each wrong value is reported at its TOML line and column.
 */
class TomlSectionsTest {
    @TempDir
    static Path dir;

    private static final String KDL_SERVICE = """
            services {
              web {
                listeners {
                  "127.0.0.1:8080"
                }
                connectors {
                  "127.0.0.1:9000"
                }
              }
            }
            """;

    private static final String TOML_SERVICE = """
            [[basic-proxy]]
            name = "web"
            listeners = [{ source = { kind = "Tcp", value = { addr = "127.0.0.1:8080" } } }]
            connector = { proxy_addr = "127.0.0.1:9000" }
            """;

    @BeforeAll
    static void files() throws Exception {
        Files.writeString(dir.resolve("token"), "secret\n");
        Files.write(dir.resolve("a.wasm"), river.testsupport.TinyWasm.module("proxy_abi_version_0_2_1"));
        Files.write(dir.resolve("b.wasm"), river.testsupport.TinyWasm.module("proxy_abi_version_0_1_0"));
        Files.writeString(dir.resolve("not.wasm"), "text");
        Path compat = Path.of("src/test/resources/compat/assets");
        if (!Files.isDirectory(compat)) {
            compat = Path.of("/work/shared/compat/assets");
        }
        Files.copy(compat.resolve("test.crt"), dir.resolve("test.crt"));
        Files.copy(compat.resolve("test.key"), dir.resolve("test.key"));
        Files.createDirectories(dir.resolve("acme"));
        Files.writeString(dir.resolve("hook"), "#!/bin/sh\n");
    }

    static Stream<Arguments> sections() {
        return Stream.of(
                Arguments.of("admin", """
                        system {
                          admin {
                            enabled true
                            listen "127.0.0.1:9911"
                            token-file "token"
                            metrics false
                          }
                        }
                        """ + KDL_SERVICE, """
                        [system.admin]
                        enabled = true
                        listen = "127.0.0.1:9911"
                        token-file = "token"
                        metrics = false
                        """ + TOML_SERVICE),
                Arguments.of("log", """
                        system {
                          log {
                            level "debug"
                            format "json"
                            output "/var/log/river/river.log" max-size="10MB" max-history=3 rotate="hourly" total-size-cap="1GB" compress=true
                            logger "river.upstream" level="trace"
                            logger "io.netty" level="warn"
                          }
                        }
                        """ + KDL_SERVICE, """
                        [system.log]
                        level = "debug"
                        format = "json"
                        output = "/var/log/river/river.log"
                        max-size = "10MB"
                        max-history = 3
                        rotate = "hourly"
                        total-size-cap = "1GB"
                        compress = true

                        [system.log.loggers]
                        "river.upstream" = "trace"
                        "io.netty" = "warn"
                        """ + TOML_SERVICE),
                Arguments.of("access-log to a file", """
                        system {
                          access-log "/var/log/river/access.log" format="json" queue=512 max-size="5MB" rotate="daily"
                        }
                        """ + KDL_SERVICE, """
                        [system.access-log]
                        output = "/var/log/river/access.log"
                        format = "json"
                        queue = 512
                        max-size = "5MB"
                        rotate = "daily"
                        """ + TOML_SERVICE),
                Arguments.of("access-log off", "system {\n  access-log \"off\"\n}\n" + KDL_SERVICE,
                        "[system]\naccess-log = \"off\"\n" + TOML_SERVICE),
                Arguments.of("tracing", """
                        system {
                          tracing {
                            enabled true
                            protocol "grpc"
                            sampling-ratio 0.25
                            service-name "edge"
                          }
                        }
                        """ + KDL_SERVICE, """
                        [system.tracing]
                        enabled = true
                        protocol = "grpc"
                        sampling-ratio = 0.25
                        service-name = "edge"
                        """ + TOML_SERVICE),
                Arguments.of("system lifecycle and dns", """
                        system {
                          threads-per-service 2
                          grace-period-seconds 5
                          upgrade-timeout-seconds 9
                          close-spread-ms 0
                          graceful-shutdown-timeout-seconds 7
                          dns-servers "127.0.0.1:53" "127.0.0.1:5353"
                        }
                        """ + KDL_SERVICE, """
                        [system]
                        threads-per-service = 2
                        grace-period-seconds = 5
                        upgrade-timeout-seconds = 9
                        close-spread-ms = 0
                        graceful-shutdown-timeout-seconds = 7
                        dns-servers = ["127.0.0.1:53", "127.0.0.1:5353"]
                        """ + TOML_SERVICE),
                Arguments.of("acme", """
                        acme {
                          provider "https://127.0.0.1:14000/dir"
                          accept-terms-of-service true
                          contact "mailto:ops@example.com"
                          contact "mailto:sec@example.com"
                          store-dir "%1$s/acme"
                          renew-after-issue-days 30
                          challenge "tls-alpn-01"
                          dns-propagation-seconds 3
                          key-type "rsa-2048"
                          ca-certificate-path "test.crt"
                          store-redis "redis://127.0.0.1:6379/1" key-prefix="edge"
                          profile "shortlived"
                          domain "*.example.com" challenge="dns-01" hook="hook"
                        }
                        services {
                          web {
                            listeners {
                              "127.0.0.1:8443" acme-domains="example.com, *.example.com" tls-min-version="1.3"
                            }
                            connectors {
                              "127.0.0.1:9000"
                            }
                          }
                        }
                        """.formatted(dir), """
                        [acme]
                        provider = "https://127.0.0.1:14000/dir"
                        accept-terms-of-service = true
                        contact = ["mailto:ops@example.com", "mailto:sec@example.com"]
                        store-dir = "%1$s/acme"
                        renew-after-issue-days = 30
                        challenge = "tls-alpn-01"
                        dns-propagation-seconds = 3
                        key-type = "rsa-2048"
                        ca-certificate-path = "test.crt"
                        store-redis = { url = "redis://127.0.0.1:6379/1", key-prefix = "edge" }
                        profile = "shortlived"

                        [[acme.domain]]
                        name = "*.example.com"
                        challenge = "dns-01"
                        hook = "hook"

                        [[basic-proxy]]
                        name = "web"
                        connector = { proxy_addr = "127.0.0.1:9000" }
                        [[basic-proxy.listeners]]
                        source = { kind = "Tcp", value = { addr = "127.0.0.1:8443", acme_domains = ["example.com", "*.example.com"], tls = { min_version = "1.3" } } }
                        """.formatted(dir)),
                Arguments.of("listener tls", """
                        services {
                          web {
                            listeners {
                              "127.0.0.1:8443" cert-path="test.crt" key-path="test.key" tls-min-version="1.2" tls-ciphers="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" offer-h2=false proxy-protocol=true {
                                sni "api.example.com" cert-path="test.crt" key-path="test.key"
                              }
                              "127.0.0.1:8080" h2c=true
                            }
                            connectors {
                              "127.0.0.1:9000"
                            }
                          }
                        }
                        """, """
                        [[basic-proxy]]
                        name = "web"
                        connector = { proxy_addr = "127.0.0.1:9000" }

                        [[basic-proxy.listeners]]
                        [basic-proxy.listeners.source]
                        kind = "Tcp"
                        [basic-proxy.listeners.source.value]
                        addr = "127.0.0.1:8443"
                        offer_h2 = false
                        proxy_protocol = true
                        [basic-proxy.listeners.source.value.tls]
                        cert_path = "test.crt"
                        key_path = "test.key"
                        min_version = "1.2"
                        ciphers = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                        sni = [{ name = "api.example.com", cert_path = "test.crt", key_path = "test.key" }]

                        [[basic-proxy.listeners]]
                        source = { kind = "Tcp", value = { addr = "127.0.0.1:8080", h2c = true } }
                        """),
                Arguments.of("plugins", """
                        services {
                          web {
                            listeners {
                              "127.0.0.1:8080"
                            }
                            connectors {
                              "127.0.0.1:9000"
                            }
                            plugins {
                              wasm "auth" path="a.wasm" config="{\\"k\\":1}" vm-config="vm" fail-open=true max-memory-pages=32 call-timeout-ms=20 max-body-bytes=4096 root-id="root" {
                                upstream "authz" "127.0.0.1:9100"
                              }
                              wasm "headers" path="b.wasm"
                            }
                          }
                        }
                        """, TOML_SERVICE + """

                        [[basic-proxy.plugins]]
                        name = "auth"
                        path = "a.wasm"
                        config = '{"k":1}'
                        vm-config = "vm"
                        fail-open = true
                        max-memory-pages = 32
                        call-timeout-ms = 20
                        max-body-bytes = 4096
                        root-id = "root"
                        upstreams = { authz = "127.0.0.1:9100" }

                        [[basic-proxy.plugins]]
                        name = "headers"
                        path = "b.wasm"
                        """),
                Arguments.of("compression", """
                        services {
                          web {
                            listeners {
                              "127.0.0.1:8080"
                            }
                            connectors {
                              "127.0.0.1:9000"
                            }
                            compression {
                              enabled true
                              algorithms "zstd, gzip"
                              min-size 256
                              types "text/*" "application/json" "+xml"
                              level-gzip 5
                              level-br 4
                              level-zstd 7
                            }
                          }
                        }
                        """, TOML_SERVICE + """
                        [basic-proxy.compression]
                        enabled = true
                        algorithms = ["zstd", "gzip"]
                        min-size = 256
                        types = ["text/*", "application/json", "+xml"]
                        level-gzip = 5
                        level-br = 4
                        level-zstd = 7
                        """),
                Arguments.of("timeouts, limits and upstream-pool", """
                        services {
                          web {
                            listeners {
                              "127.0.0.1:8080"
                            }
                            connectors {
                              "127.0.0.1:9000"
                            }
                            timeouts connect-ms=1500 request-header-ms=4000 body-idle-ms=9000
                            limits max-request-header-bytes=16384 max-connections=100
                            upstream-pool idle-timeout-ms=30000 max-idle-per-upstream=0
                          }
                        }
                        """, TOML_SERVICE + """
                        [basic-proxy.timeouts]
                        connect-ms = 1500
                        request-header-ms = 4000
                        body-idle-ms = 9000
                        [basic-proxy.limits]
                        max-request-header-bytes = 16384
                        max-connections = 100
                        [basic-proxy.upstream-pool]
                        idle-timeout-ms = 30000
                        max-idle-per-upstream = 0
                        """));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sections")
    void aTomlSectionGivesTheSameModelAsItsKdlBlock(String section, String kdl, String toml) throws ConfigException {
        RiverConfig fromKdl = new ConfigLoader(dir).parse(kdl, "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        RiverConfig fromToml = new ConfigLoader(dir).parse(toml, "river.toml", ConfigFormat.TOML, SystemOverrides.none());
        assertThat(fromToml.system()).isEqualTo(fromKdl.system());
        assertThat(fromToml.acme()).isEqualTo(fromKdl.acme());
        assertThat(fromToml.services()).isEqualTo(fromKdl.services());
        assertThat(fromToml).as("not the defaults").isNotEqualTo(new ConfigLoader(dir).parse(TOML_SERVICE, "river.toml", ConfigFormat.TOML,
                SystemOverrides.none()));
    }

    static Stream<Arguments> errors() {
        String acme = "[acme]\naccept-terms-of-service = true\nstore-dir = \"/var/lib/river/acme\"\n";
        return Stream.of(
                Arguments.of("[system.admin]\nenabled = true\nlisten = \"nowhere\"\n", 3, 10, "nowhere"),
                Arguments.of("[system.admin]\nenabled = \"yes\"\n", 2, 11, "admin enabled expects true or false"),
                Arguments.of("[system.admin]\nport = 9901\n", 2, 1, "unknown node \"port\" in admin"),
                Arguments.of("[system.log]\nlevel = \"loud\"\n", 2, 9, "log level must be one of"),
                Arguments.of("[system.log]\nmax-size = \"10MB\"\n", 2, 1, "max-size applies to a log file"),
                Arguments.of("[system.log]\noutput = \"/var/log/r.log\"\nmax-size = \"ten\"\n", 3, 12, "max-size expects a size"),
                Arguments.of("[system.log.loggers]\n\"river.upstream\" = \"chatty\"\n", 2, 20, "log level must be one of"),
                Arguments.of("[system]\naccess-log = { output = \"relative.log\" }\n", 2, 25, "an absolute file path"),
                Arguments.of("[system.access-log]\noutput = \"stdout\"\nformats = \"json\"\n", 3, 1, "unknown key \"formats\" in access-log"),
                Arguments.of("[system.tracing]\nsampling-ratio = 1.5\n", 2, 18, "sampling-ratio must be from 0 to 1"),
                Arguments.of("[system.tracing]\nendpoint = \"ftp://collector\"\n", 2, 12, "tracing endpoint must be an http"),
                Arguments.of("[system]\ndns-servers = [\"127.0.0.1:53\", { addr = 1 }]\n", 2, 32, "dns-servers expects a string, a number or a boolean"),
                Arguments.of("[acme]\nstore-dir = \"/var/lib/river/acme\"\n", 1, 1, "acme needs accept-terms-of-service"),
                Arguments.of(acme + "contact = [\"mailto:ops@example.com\", \"sec@example.com\"]\n", 4, 38, "contact must be a mailto: URI"),
                Arguments.of(acme + "[[acme.domain]]\nchallenge = \"dns-01\"\n", 4, 1, "domain needs the key name"),
                Arguments.of(acme + "[[acme.domain]]\nname = \"*.example.com\"\n", 4, 1, "a wildcard can only be validated with dns-01"),
                Arguments.of(acme + "store-redis = { url = \"http://x\" }\n", 4, 23, "store-redis expects a redis:// or rediss:// URL"),
                Arguments.of(acme + "profile = \"6 days\"\n", 4, 11, "profile must be the name of a profile the CA lists"),
                Arguments.of("[[basic-proxy]]\nname = \"s\"\nconnector = { proxy_addr = \"127.0.0.1:9000\" }\n"
                        + "listeners = [{ source = { kind = \"Tcp\", value = { addr = \"127.0.0.1:8443\", acme_domains = \"example.com\" } } }]\n",
                        4, 91, "sets acme-domains but there is no top-level acme section"),
                Arguments.of("[[basic-proxy]]\nname = \"s\"\nconnector = { proxy_addr = \"127.0.0.1:9000\" }\n"
                        + "listeners = [{ source = { kind = \"Tcp\", value = { addr = \"127.0.0.1:8443\", tls = { cert_path = \"test.crt\", key_path = \"test.key\", min_version = \"1.0\" } } } }]\n",
                        4, 145, "1.0"),
                Arguments.of("[[basic-proxy]]\nname = \"s\"\nconnector = { proxy_addr = \"127.0.0.1:9000\" }\n"
                        + "listeners = [{ source = { kind = \"Tcp\", value = { addr = \"127.0.0.1:8443\", tls = { cert_path = \"test.crt\", key_path = \"test.key\","
                        + " sni = [{ name = \"bad name\", cert_path = \"test.crt\", key_path = \"test.key\" }] } } } }]\n",
                        4, 147, "bad name"),
                Arguments.of(TOML_SERVICE + "[[basic-proxy]]\nname = \"second\"\nconnector = { proxy_addr = \"127.0.0.1:9000\" }\n"
                        + "listeners = [{ source = { kind = \"Tcp\", value = { addr = \"127.0.0.1:8081\" } } }]\n"
                        + "[[basic-proxy.plugins]]\nname = \"p\"\npath = \"not.wasm\"\n", 11, 8, "is not a valid WebAssembly module"),
                Arguments.of(TOML_SERVICE + "[[basic-proxy.plugins]]\nname = \"p\"\npath = \"a.wasm\"\nupstreams = { authz = \"localhost:9100\" }\n",
                        8, 23, "is not an IP literal and port"),
                Arguments.of(TOML_SERVICE + "[[basic-proxy.plugins]]\npath = \"a.wasm\"\n", 5, 1, "wasm needs the key name"),
                Arguments.of(TOML_SERVICE + "[basic-proxy.compression]\nlevel-gzip = 12\n", 6, 1, "level-gzip must be from 1 to 9"),
                Arguments.of(TOML_SERVICE + "[basic-proxy.compression]\nalgorithms = [\"gzip\", \"lzma\"]\n", 6, 23, "unknown compression algorithm \"lzma\""),
                Arguments.of(TOML_SERVICE + "[basic-proxy.timeouts]\nconnect-ms = 0\n", 6, 14, "connect-ms expects a positive integer"));
    }

    @ParameterizedTest(name = "{3}")
    @MethodSource("errors")
    void aWrongValueIsReportedAtItsTomlLineAndColumn(String toml, int line, int column, String message) {
        List<ConfigError> errors;
        try {
            new ConfigLoader(dir).parse(toml, "river.toml", ConfigFormat.TOML, SystemOverrides.none());
            throw new AssertionError("expected the configuration to be rejected");
        } catch (ConfigException e) {
            errors = e.errors();
        }
        assertThat(errors).as("errors").hasSize(1);
        assertThat(errors.get(0).message()).contains(message);
        assertThat(errors.get(0).line() + ":" + errors.get(0).column()).as(errors.get(0).toString()).isEqualTo(line + ":" + column);
    }
}
