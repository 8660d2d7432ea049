package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Each path-control filter in action, as the origin and the client see it. */
class PathControlFiltersTest {
    static TestOrigin origin;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        river = RiverHarness.start("""
                services {
                    filters {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        path-control {
                            request-filters {
                                filter kind="block-cidr-range" addrs="10.6.6.0/24"
                                filter kind="allow-cidr-range" addrs="127.0.0.0/8"
                                filter kind="redirect" pattern="^/old/(.*)$" location="/new/$1" status=301
                                filter kind="rewrite-path" pattern="^/api/v1/(.*)$" replacement="/v1-backend/$1"
                            }
                            upstream-request {
                                filter kind="remove-header-key-regex" pattern="^x-regex-"
                                filter kind="remove-header-key-glob" pattern="x-internal-*"
                                filter kind="remove-header" key="x-debug-token"
                                filter kind="upsert-header" key="x-proxy-friend" value="river"
                                filter kind="append-header" key="x-trace" value="river"
                            }
                            upstream-response {
                                filter kind="upsert-header" key="x-with-love-from" value="river"
                            }
                            response-filters {
                                filter kind="append-header" key="vary" value="accept-encoding"
                            }
                            request-body {
                                filter kind="max-size" max-bytes=1000
                                filter kind="replace" pattern="hunter2" replacement="[redacted]" content-types="text/plain"
                            }
                            response-body {
                                filter kind="max-size" max-bytes=100000
                                filter kind="replace" pattern="GET" replacement="FETCH" max-bytes=50000
                            }
                        }
                    }
                    denied {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        path-control {
                            request-filters {
                                filter kind="allow-cidr-range" addrs="10.0.0.0/8" status=403 body="Not permitted from your network\\n"
                            }
                            response-filters {
                                filter kind="upsert-header" key="x-served-by" value="river"
                            }
                        }
                    }
                }
                """.formatted(origin.address()));
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    private static RawHttp.Response send(String service, String request) throws Exception {
        try (RawHttp raw = new RawHttp(river.port(service))) {
            raw.send(request);
            return raw.read();
        }
    }

    @Test
    void headerFiltersShapeWhatTheOriginAndTheClientSee() throws Exception {
        RawHttp.Response r = send("filters", "GET /echo HTTP/1.1\r\nHost: h\r\nX-Regex-A: 1\r\nX-Internal-Id: 2\r\nX-Internals: 3\r\n"
                + "X-Debug-Token: 4\r\nX-Trace: client\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        var seen = origin.lastSeen().headers();
        assertThat(seen.contains("x-regex-a")).isFalse();
        assertThat(seen.contains("x-internal-id")).isFalse();
        assertThat(seen.contains("x-internals")).as("the glob covers the whole name: x-internal-* does not match x-internals").isTrue();
        assertThat(seen.contains("x-debug-token")).isFalse();
        assertThat(seen.get("x-proxy-friend")).isEqualTo("river");
        assertThat(seen.getAll("x-trace")).containsExactly("client", "river");
        assertThat(r.headers().get("x-with-love-from")).isEqualTo("river");
        assertThat(r.headers().get("vary")).contains("accept-encoding");
    }

    @Test
    void allowListRejectsWithItsOwnAnswerAndResponseFiltersSeeLocalAnswersToo() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = send("denied", "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text()).isEqualTo("Not permitted from your network\n");
        assertThat(r.headers().get("x-served-by")).isEqualTo("river");
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void redirectsUseTheGroupsOfThePathAndKeepTheQuery() throws Exception {
        RawHttp.Response r = send("filters", "GET /old/page/1?x=2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.headers().get("location")).isEqualTo("/new/page/1?x=2");
    }

    @Test
    void pathsAreRewrittenBeforeForwarding() throws Exception {
        assertThat(send("filters", "GET /api/v1/users?id=3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").status()).isEqualTo(200);
        assertThat(origin.lastSeen().uri()).isEqualTo("/v1-backend/users?id=3");
    }

    @Test
    void requestBodiesOverTheLimitAreRefused() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response declared = send("filters", "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n");
        assertThat(declared.status()).as("refused on its Content-Length, before the body").isEqualTo(413);
        String chunk = "x".repeat(600);
        RawHttp.Response chunked = send("filters", "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n" + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n");
        assertThat(chunked.status()).as("counted as it arrives").isEqualTo(413);
        assertThat(origin.requestsReceived() - before).isLessThanOrEqualTo(1);
        assertThat(send("filters", "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789").status())
                .isEqualTo(200);
    }

    @Test
    void requestBodiesAreRewrittenBeforeTheOriginSeesThem() throws Exception {
        String body = "password=hunter2";
        RawHttp.Response r = send("filters", "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(r.status()).isEqualTo(200);
        byte[] rewritten = "password=[redacted]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(origin.lastSeen().bodyLength()).isEqualTo(rewritten.length);
        assertThat(origin.lastSeen().bodySha256()).isEqualTo(TestOrigin.sha256(rewritten));
    }

    @Test
    void responseBodiesOverTheLimitBecome502() throws Exception {
        assertThat(send("filters", "GET /bytes?n=200000 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").status()).isEqualTo(502);
    }

    @Test
    void bodiesAreRewritten() throws Exception {
        RawHttp.Response r = send("filters", "GET /echo/rewrite HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).startsWith("FETCH /echo/rewrite\n");
        assertThat(r.headers().get("content-length")).isNull();
    }

    @Test
    void river08PathControlExampleValidates() throws Exception {
        Path file = Path.of(PathControlFiltersTest.class.getResource("/compat/river-0.8/assets/test-config-path-control.kdl").toURI());
        var config = new ConfigLoader(file.getParent()).load(file, ConfigFormat.KDL, SystemOverrides.none());
        assertThat(config.services()).hasSize(9);
    }
}
