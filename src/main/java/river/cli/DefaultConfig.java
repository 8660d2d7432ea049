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
                graceful-shutdown-timeout-seconds 5
                upgrade-timeout-seconds 60
                close-spread-ms 1000
                access-log "stdout"
                // The admin listener: GET /metrics, /health, /ready, /config; POST /reload. See docs/observability.md.
                admin {
                    enabled false
                    listen "127.0.0.1:9901"
                    metrics true
                    // token-file "/etc/river/admin-token"   (then every request needs Authorization: Bearer <token>)
                }
                // OpenTelemetry traces over OTLP/HTTP: a span per request and per upstream attempt, W3C
                // traceparent/tracestate continued from the client and sent upstream. See docs/observability.md.
                tracing {
                    enabled false
                    endpoint "http://127.0.0.1:4318/v1/traces"
                    protocol "http/protobuf"         // or "grpc" (endpoint then defaults to "http://127.0.0.1:4317")
                    sampling-ratio 1.0
                    service-name "river"
                }
                // pid-file "/run/river.pid"            (required when daemonize is true)
                // upgrade-socket "/run/river-upgrade.sock"
            }

            services {
                // A service's name is its node name.
                Example {
                    listeners {
                        // TCP (IPv4 or [IPv6]) or unix:/path. TLS when cert-path and key-path are set;
                        // offer-h2 (default true with TLS), tls-min-version="1.2", tls-ciphers need TLS;
                        // h2c=true (cleartext only) also accepts HTTP/2 with prior knowledge.
                        "127.0.0.1:8080" proxy-protocol=false h2c=false
                    }
                    // Or, instead of connectors: routes { route "/api" { connectors { ... } } no-route status=404 }
                    // Or serve files (docs/files.md), with every option at its default but base-path:
                    // file-server {
                    //     base-path "/srv/www"
                    //     index-files "index.html"
                    //     directory-listing false
                    //     serve-dotfiles false
                    //     error-page 404 "/srv/errors/404.html"   (and 403; default: a plain-text body)
                    //     cache-control "/assets/**" "public, max-age=31536000, immutable"   (none by default)
                    //     precompressed false                    (true: FILE.br, FILE.zst, FILE.gz by Accept-Encoding)
                    // }
                    connectors {
                        load-balance {
                            selection "RoundRobin"
                            health-check "None"
                            refresh-bounds min-seconds=5 max-seconds=300
                        }
                        // tls-sni="example.com" turns on TLS to the connector; proto defaults to
                        // "h1-only" without TLS and "h2-or-h1" with it. Per-connector timeouts:
                        // connection-timeout-ms, total-connection-timeout-ms, read-timeout-ms,
                        // write-timeout-ms, idle-timeout-ms; send-proxy-protocol="v1"|"v2".
                        "127.0.0.1:8000" proto="h1-only" weight=1
                        // dns "app.internal" port=8000 refresh="ttl"
                        // srv "_http._tcp.app.internal" tls=false
                    }
                    normalization {
                        default true
                        header-non-ascii false
                        status 400
                    }
                    // client-ip { trusted-proxies "10.0.0.0/8"; header "x-forwarded-for" }
                    // overload { max-concurrent-requests 1000; status 503 }
                    // connection-filters { filter kind="block-cidr-range" addrs="192.0.2.0/24" }
                    path-control {
                        request-filters {
                        }
                        upstream-request {
                        }
                        upstream-response {
                        }
                        response-filters {
                        }
                        request-body {
                        }
                        response-body {
                        }
                    }
                    rate-limiting {
                        // redis "redis://127.0.0.1:6379" key-prefix="river"
                    }
                    timeouts connect-ms=5000 request-header-ms=10000 keepalive-idle-ms=60000 \\
                        upstream-response-ms=60000 body-idle-ms=60000 tunnel-idle-ms=300000 tls-handshake-ms=10000
                    // 0 turns a limit off where docs/hardening.md allows it.
                    limits max-request-line-bytes=8192 max-request-header-bytes=16384 max-request-headers=100 \\
                        max-request-body-bytes=0 max-connections=10000 max-connections-per-address=0 \\
                        max-connection-rate-per-address=0 max-concurrent-streams=128 max-pipelined-requests=32
                    upstream-pool idle-timeout-ms=60000 max-idle-per-upstream=128
                    // Response compression on the fly (docs/compression.md); off by default.
                    compression {
                        enabled false
                        algorithms "br,zstd,gzip"
                        min-size 1024
                        // types "text/*" "application/json" "image/svg+xml" "+json" "+xml"
                        level-gzip 6
                        level-br 4
                        level-zstd 3
                    }
                }
            }
            // system { dns-servers "127.0.0.1:53" } sets the name servers dns/srv connectors ask.
            """;
}
