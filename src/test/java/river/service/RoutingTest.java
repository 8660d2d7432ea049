package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** River 0.8's routes: by exact path, longest prefix on segment boundaries, regex, method and host. */
class RoutingTest {
    static TestOrigin api;
    static TestOrigin apiV2;
    static TestOrigin health;
    static TestOrigin uploads;
    static TestOrigin images;
    static TestOrigin tenant;
    static TestOrigin fallback;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        api = new TestOrigin();
        apiV2 = new TestOrigin();
        health = new TestOrigin();
        uploads = new TestOrigin();
        images = new TestOrigin();
        tenant = new TestOrigin();
        fallback = new TestOrigin();
        river = RiverHarness.start("""
                services {
                    routed {
                        listeners {
                            "127.0.0.1:0"
                        }
                        routes {
                            no-route status=404 body="no route here\\n"
                            route "\\\\.(png|jpg)$" match="regex" {
                                connectors {
                                    "%s"
                                }
                            }
                            route "/api" {
                                connectors {
                                    "%s"
                                }
                            }
                            route "/api/v2" {
                                connectors {
                                    load-balance {
                                        selection "Ketama" key="UriPath"
                                    }
                                    "%s"
                                }
                            }
                            route "/healthz" match="exact" {
                                connectors {
                                    "%s"
                                }
                            }
                            route "/upload" methods="POST,PUT" {
                                connectors {
                                    "%s"
                                }
                            }
                            route "/" host="*.tenant.example" {
                                connectors {
                                    "%s"
                                }
                            }
                            route "/upload" {
                                connectors {
                                    "%s"
                                }
                            }
                        }
                    }
                }
                """.formatted(images.address(), api.address(), apiV2.address(), health.address(), uploads.address(),
                tenant.address(), fallback.address()));
    }

    @AfterAll
    static void stop() {
        river.close();
        for (TestOrigin o : new TestOrigin[] {api, apiV2, health, uploads, images, tenant, fallback}) {
            o.close();
        }
    }

    private static RawHttp.Response send(String method, String path, String host) throws Exception {
        try (RawHttp raw = new RawHttp(river.port("routed"))) {
            raw.send(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return raw.read();
        }
    }

    private static void assertRoutedTo(TestOrigin origin, String method, String path, String host) throws Exception {
        int before = origin.requestsReceived();
        assertThat(send(method, path, host).status()).isEqualTo(200);
        assertThat(origin.requestsReceived()).as("%s %s (Host %s)", method, path, host).isEqualTo(before + 1);
        assertThat(origin.lastSeen().uri()).isEqualTo(path);
    }

    @Test
    void longestPrefixWinsOnSegmentBoundaries() throws Exception {
        assertRoutedTo(api, "GET", "/api", "a.example");
        assertRoutedTo(api, "GET", "/api/users", "a.example");
        assertRoutedTo(apiV2, "GET", "/api/v2/users?x=1", "a.example");
        assertRoutedTo(api, "GET", "/api/v20", "a.example");
        assertThat(send("GET", "/apiary", "a.example").status()).as("a prefix stops at a segment boundary").isEqualTo(404);
    }

    @Test
    void exactRoutesComeFirstAndMatchOnlyThemselves() throws Exception {
        assertRoutedTo(health, "GET", "/healthz", "a.example");
        assertThat(send("GET", "/healthz/", "a.example").status()).isEqualTo(404);
    }

    @Test
    void methodsFallThroughToTheNextRoute() throws Exception {
        assertRoutedTo(uploads, "POST", "/upload/x", "a.example");
        assertRoutedTo(fallback, "GET", "/upload/x", "a.example");
    }

    @Test
    void regexRoutesComeAfterPrefixes() throws Exception {
        assertRoutedTo(images, "GET", "/static/logo.png", "a.example");
        assertRoutedTo(api, "GET", "/api/logo.png", "a.example");
    }

    @Test
    void hostRoutesClaimTheirSubdomains() throws Exception {
        assertRoutedTo(tenant, "GET", "/anything", "shop.tenant.example:8080");
        assertThat(send("GET", "/anything", "tenant.example").status()).isEqualTo(404);
    }

    @Test
    void noRouteAnswersWithTheConfiguredStatusAndBody() throws Exception {
        RawHttp.Response r = send("GET", "/nothing/here", "a.example");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text()).isEqualTo("no route here\n");
    }
}
