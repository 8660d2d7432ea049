package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Normalization, client-ip, overload and rate limiting, end to end with real requests. */
class RequestGuardsTest {
    static TestOrigin origin;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        String o = origin.address();
        river = RiverHarness.start("""
                services {
                    normalized {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        path-control {
                            request-filters {
                                filter kind="block-cidr-range" addrs="127.0.0.1" status=404 body="nothing here\\n"
                            }
                        }
                        rate-limiting {
                            rule kind="specific-uri" pattern="^/admin" max-buckets=10 tokens-per-bucket=1 refill-qty=1 refill-rate-ms=600000
                        }
                    }
                    relaxed {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        normalization {
                            status 422
                            body "Malformed request\\n"
                            encoded-separators false
                            header-non-ascii true
                        }
                    }
                    raw {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        normalization {
                            default false
                        }
                    }
                    behind-cdn {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        client-ip {
                            trusted-proxies "127.0.0.0/8, 10.0.0.0/8"
                        }
                        path-control {
                            request-filters {
                                filter kind="block-cidr-range" addrs="203.0.113.0/24"
                            }
                        }
                    }
                    admin-limited {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        rate-limiting {
                            rule kind="any-matching-uri" pattern="^/admin" tokens-per-bucket=1 refill-qty=1 refill-rate-ms=600000
                        }
                    }
                    limited {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        rate-limiting {
                            rule kind="source-ip" max-buckets=100 tokens-per-bucket=5 refill-qty=1 refill-rate-ms=600000
                        }
                    }
                    bounded {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%1$s"
                        }
                        overload {
                            max-concurrent-requests 2
                            max-headers 8
                            body "Server is busy, please retry\\n"
                        }
                    }
                }
                """.formatted(o));
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    private static RawHttp.Response get(String service, String target, String extraHeaders) throws Exception {
        try (RawHttp raw = new RawHttp(river.port(service))) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: h\r\n" + extraHeaders + "Connection: close\r\n\r\n");
            return raw.read();
        }
    }

    @Test
    void everySpellingOfAPathReachesTheOriginInOneCanonicalForm() throws Exception {
        for (String spelling : new String[] {"/static/../admin/x", "/static/%2E%2E/admin/x", "/static//..///admin/x", "/%61dmin/./x"}) {
            assertThat(get("raw", "/", "").status()).isEqualTo(200); // keeps the origin's record moving
            assertThat(get("relaxed", spelling + "?q=%2e", "").status()).as(spelling).isEqualTo(200);
            assertThat(origin.lastSeen().uri()).as(spelling).isEqualTo("/admin/x?q=%2e");
        }
    }

    @Test
    void malformedPathsAreRefusedWithTheConfiguredAnswer() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response climb = get("relaxed", "/../etc/passwd", "");
        assertThat(climb.status()).isEqualTo(422);
        assertThat(climb.text()).isEqualTo("Malformed request\n");
        assertThat(get("relaxed", "/a%zz", "").status()).isEqualTo(422);
        assertThat(get("relaxed", "/a%00b", "").status()).isEqualTo(422);
        assertThat(get("normalized", "/a%2Fb", "").status()).as("encoded separator, default 400").isEqualTo(400);
        assertThat(get("normalized", "/", "Host: other\r\n").status()).as("two Host headers").isEqualTo(400);
        assertThat(origin.requestsReceived()).isEqualTo(before);
        assertThat(get("relaxed", "/a%2Fb", "").status()).as("encoded-separators turned off").isEqualTo(200);
    }

    @Test
    void nonAsciiHeaderValuesAreRefusedWhenAsked() throws Exception {
        int before = origin.requestsReceived();
        assertThat(get("relaxed", "/echo", "X-Name: caf\u00e9\r\n").status()).isEqualTo(422);
        assertThat(origin.requestsReceived()).isEqualTo(before);
        assertThat(get("raw", "/echo", "X-Name: caf\u00e9\r\n").status()).isEqualTo(200);
        assertThat(get("relaxed", "/echo", "X-Name: cafe\r\n").status()).isEqualTo(200);
    }

    @Test
    void withNormalizationOffThePathPassesAsSent() throws Exception {
        assertThat(get("raw", "/x//y/%61", "").status()).isEqualTo(200);
        assertThat(origin.lastSeen().uri()).isEqualTo("/x//y/%61");
    }

    @Test
    void rateLimitsCannotBeBypassedByEncoding() throws Exception {
        // On "normalized", the address filter answers before the limit is even consulted.
        assertThat(get("normalized", "/admin", "").status()).isEqualTo(404);
        // "admin-limited" has one token for everything under /admin: every spelling of it spends it.
        assertThat(get("admin-limited", "/admin/users", "").status()).isEqualTo(200);
        for (String spelling : new String[] {"/static/../admin/users", "/%61dmin/users", "//admin/users", "/./admin/users"}) {
            assertThat(get("admin-limited", spelling, "").status()).as(spelling).isEqualTo(429);
        }
        assertThat(get("admin-limited", "/public", "").status()).isEqualTo(200);
    }

    @Test
    void clientIpTrustsTheForwardingHeaderOnlyFromTrustedProxies() throws Exception {
        assertThat(get("behind-cdn", "/echo", "X-Forwarded-For: 198.51.100.1, 10.1.2.3\r\n").status()).isEqualTo(200);
        // The rightmost untrusted address is the client; it is what was blocked or let through.
        assertThat(get("behind-cdn", "/echo", "X-Forwarded-For: 203.0.113.7, 10.1.2.3\r\n").status()).isEqualTo(403);
        // A spoofed leftmost entry does not help: the proxy appended the real client.
        assertThat(get("behind-cdn", "/echo", "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n").status()).isEqualTo(403);
        // X-Forwarded-For upstream still records the hop River saw.
        get("behind-cdn", "/echo", "X-Forwarded-For: 198.51.100.1\r\n");
        assertThat(origin.lastSeen().headers().get("x-forwarded-for")).isEqualTo("198.51.100.1, 127.0.0.1");
    }

    @Test
    void rateLimitAnswers429WithRetryAfter() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(get("limited", "/echo", "").status()).isEqualTo(200);
        }
        RawHttp.Response refused = get("limited", "/echo", "");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(Integer.parseInt(refused.headers().get("retry-after"))).isBetween(1, 600);
    }

    @Test
    void overloadShedsBeyondTheConcurrencyLimitAndRefusesTooManyHeaders() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + river.port("bounded") + "/slow?ms=500")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int shed = 0;
        for (var c : calls) {
            HttpResponse<String> r = c.get();
            if (r.statusCode() == 200) {
                ok++;
            } else {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).isEqualTo("Server is busy, please retry\n");
                shed++;
            }
        }
        assertThat(ok).isEqualTo(2);
        assertThat(shed).isEqualTo(2);
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            many.append("x-h").append(i).append(": v\r\n");
        }
        assertThat(get("bounded", "/echo", many.toString()).status()).isEqualTo(431);
        assertThat(get("bounded", "/echo", "").status()).isEqualTo(200);
    }
}
