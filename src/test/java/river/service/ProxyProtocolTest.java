package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.NginxOrigin;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * The PROXY protocol: read on a listener with proxy-protocol=true (v1 and v2, from curl and from raw
 * headers), and sent to connectors with send-proxy-protocol, checked by nginx as the origin.
 */
class ProxyProtocolTest {
    @TempDir
    static Path dir;
    static TestOrigin origin;
    static NginxOrigin nginx;
    static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        nginx = new NginxOrigin(dir, """
                server {
                    listen 127.0.0.1:%PORT% proxy_protocol;
                    location / {
                        return 200 "proxied-for=$proxy_protocol_addr:$proxy_protocol_port server=$proxy_protocol_server_addr\\n";
                    }
                }
                """);
        river = RiverHarness.start("""
                services {
                    behind-balancer {
                        listeners {
                            "127.0.0.1:0" proxy-protocol=true
                        }
                        connectors {
                            "%1$s"
                        }
                        path-control {
                            request-filters {
                                filter kind="block-cidr-range" addrs="203.0.113.0/24"
                            }
                        }
                    }
                    send-v1 {
                        listeners {
                            "127.0.0.1:0" proxy-protocol=true
                        }
                        connectors {
                            "127.0.0.1:%2$d" send-proxy-protocol="v1"
                        }
                    }
                    send-v2 {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "127.0.0.1:%2$d" send-proxy-protocol="v2"
                        }
                    }
                }
                """.formatted(origin.address(), nginx.port()));
    }

    @AfterAll
    static void stop() throws Exception {
        river.close();
        origin.close();
        nginx.close();
    }

    private static RawHttp.Response exchange(String service, byte[] header, String request) throws Exception {
        try (RawHttp raw = new RawHttp(river.port(service))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(header);
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            raw.send(out.toByteArray());
            return raw.read();
        }
    }

    /** A PROXY v2 header for TCP over IPv4 (RFC-less, but haproxy's proxy-protocol.txt §2.2). */
    static byte[] v2(int[] source, int sourcePort, int[] destination, int destinationPort) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // version 2, PROXY
        b.write(0x11); // TCP over IPv4
        b.write(0);
        b.write(12);
        for (int x : source) {
            b.write(x);
        }
        for (int x : destination) {
            b.write(x);
        }
        b.write(sourcePort >> 8);
        b.write(sourcePort & 0xff);
        b.write(destinationPort >> 8);
        b.write(destinationPort & 0xff);
        return b.toByteArray();
    }

    @Test
    void v1HeaderNamesTheClientThatFiltersAndTheOriginSee() throws Exception {
        RawHttp.Response r = exchange("behind-balancer", "PROXY TCP4 198.51.100.7 127.0.0.1 40001 443\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-forwarded-for")).isEqualTo("198.51.100.7");
        RawHttp.Response blocked = exchange("behind-balancer", "PROXY TCP4 203.0.113.5 127.0.0.1 40001 443\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(blocked.status()).as("the filter sees the client the header names").isEqualTo(403);
    }

    @Test
    void v2HeaderIsReadToo() throws Exception {
        RawHttp.Response r = exchange("behind-balancer", v2(new int[] {198, 51, 100, 8}, 50000, new int[] {127, 0, 0, 1}, 443),
                "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-forwarded-for")).isEqualTo("198.51.100.8");
    }

    @Test
    void aConnectionWithoutAValidHeaderIsClosedAndNothingIsForwarded() throws Exception {
        int before = origin.requestsReceived();
        try (RawHttp raw = new RawHttp(river.port("behind-balancer"))) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.closedByPeer()).isTrue();
        }
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void curlWithHaproxyProtocolIsServed() throws Exception {
        Process curl = new ProcessBuilder("curl", "-s", "--haproxy-protocol", "http://127.0.0.1:" + river.port("behind-balancer") + "/echo/curl")
                .redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(out).startsWith("GET /echo/curl").contains("x-forwarded-for: 127.0.0.1");
    }

    @Test
    void riverSendsV1AndV2HeadersNamingTheClientToAnOriginThatExpectsThem() throws Exception {
        RawHttp.Response v1 = exchange("send-v1", "PROXY TCP4 198.51.100.9 127.0.0.1 41234 443\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(v1.status()).isEqualTo(200);
        assertThat(v1.text()).startsWith("proxied-for=198.51.100.9:41234");
        try (RawHttp raw = new RawHttp(river.port("send-v2"))) {
            raw.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            int localPort = raw.socket().getLocalPort();
            assertThat(r.text()).startsWith("proxied-for=127.0.0.1:" + localPort).contains("server=127.0.0.1");
        }
    }
}
