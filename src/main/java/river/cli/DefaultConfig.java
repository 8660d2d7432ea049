package river.cli;

/** The text printed by {@code --print-default-config}: every option at its default, documented. */
final class DefaultConfig {
    private DefaultConfig() {}

    static final String KDL = """
            // River configuration with every option at its default.
            // Options without a default are shown commented out. See docs/configuration.md.
            system {
                threads-per-service 8
                daemonize false
                grace-period-seconds 30
                access-log "stdout"
                // pid-file "/run/river.pid"            (required when daemonize is true)
                // upgrade-socket "/run/river-upgrade.sock"
            }

            services {
                // A service's name is its node name.
                Example {
                    listeners {
                        // TCP (IPv4 or [IPv6]) or unix:/path. TLS when cert-path and key-path are set;
                        // offer-h2 (default true with TLS), tls-min-version="1.2", tls-ciphers need TLS.
                        "127.0.0.1:8080" proxy-protocol=false
                    }
                    connectors {
                        load-balance {
                            selection "RoundRobin"
                            discovery "Static"
                            health-check "None"
                        }
                        // tls-sni="example.com" turns on TLS to the connector; proto defaults to
                        // "h1-only" without TLS and "h2-or-h1" with it.
                        "127.0.0.1:8000" proto="h1-only" weight=1
                    }
                    path-control {
                        request-filters {
                        }
                        upstream-request {
                        }
                        upstream-response {
                        }
                    }
                    rate-limiting {
                    }
                    timeouts connect-ms=5000 request-header-ms=10000 keepalive-idle-ms=60000 \\
                        upstream-response-ms=60000 body-idle-ms=60000 tunnel-idle-ms=300000
                    limits max-request-line-bytes=8192 max-request-header-bytes=16384
                    upstream-pool idle-timeout-ms=60000 max-idle-per-upstream=128
                }
            }
            """;
}
