package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.server.ConnectionLimiter;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * The {@code limits} of a service through real sockets: connections per client address (127.0.0.2 is a
 * second client on loopback), new connections per second per address, the service's connection cap,
 * pipelined requests, header count and body size on HTTP/1.1 and HTTP/2.
 */
class ClientLimitsTest {
    private static final String GET = "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n";
    private static TestOrigin origin;
    private static RiverHarness river;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        river = RiverHarness.start("""
                services {
                    per-address {
                        listeners { "127.0.0.1:0"; }
                        connectors { "%1$s"; }
                        limits max-connections-per-address=2
                    }
                    rate {
                        listeners { "127.0.0.1:0"; }
                        connectors { "%1$s"; }
                        limits max-connection-rate-per-address=1
                    }
                    cap {
                        listeners { "127.0.0.1:0"; }
                        connectors { "%1$s"; }
                        limits max-connections=2
                    }
                    requests {
                        listeners { "127.0.0.1:0" h2c=true; }
                        connectors { "%1$s"; }
                        limits max-pipelined-requests=2 max-request-headers=8 max-request-body-bytes=100 max-concurrent-streams=7
                    }
                }
                """.formatted(origin.address()));
    }

    @AfterAll
    static void stop() throws Exception {
        river.close();
        origin.close();
    }

    private static ConnectionLimiter limiter(String service) {
        return river.service(service).limiter();
    }

    private static RawHttp.Response request(String from, String service, String text) throws IOException {
        try (RawHttp c = new RawHttp(from, river.port(service))) {
            return c.send(text).read();
        }
    }

    @Test
    void theConnectionPastAnAddressLimitIsResetWhileAnotherAddressIsServed() throws Exception {
        int port = river.port("per-address");
        try (RawHttp first = new RawHttp("127.0.0.1", port); RawHttp second = new RawHttp("127.0.0.1", port)) {
            assertThat(first.send(GET).read().status()).isEqualTo(200);
            assertThat(second.send(GET).read().status()).isEqualTo(200);
            try (RawHttp third = new RawHttp("127.0.0.1", port)) {
                assertThatThrownBy(() -> third.send(GET).read()).as("reset at accept, never answered").isInstanceOf(IOException.class);
            }
            assertThat(limiter("per-address").refusedPerAddress()).isEqualTo(1);
            assertThat(request("127.0.0.2", "per-address", GET).status()).as("another client address").isEqualTo(200);
            first.close();
            InetAddress local = InetAddress.getByName("127.0.0.1");
            Eventually.await(() -> limiter("per-address").openFrom(local) == 1, 10_000);
            assertThat(request("127.0.0.1", "per-address", GET).status()).as("a slot freed by a close").isEqualTo(200);
        }
    }

    @Test
    void anAddressOpeningConnectionsFasterThanItsRateIsRefusedAndAnotherAddressIsNot() throws Exception {
        // One a second: of ten connections opened back to back, at most one a second gets through.
        int refused = 0;
        for (int i = 0; i < 10; i++) {
            try {
                request("127.0.0.2", "rate", GET);
            } catch (IOException e) {
                refused++;
            }
        }
        assertThat(refused).isGreaterThanOrEqualTo(5);
        assertThat(limiter("rate").refusedPerAddress()).isEqualTo(refused);
        assertThat(request("127.0.0.1", "rate", GET).status()).as("another address has its own bucket").isEqualTo(200);
    }

    @Test
    void atTheServiceCapNewConnectionsWaitInTheBacklogAndAreServedWhenOneCloses() throws Exception {
        int port = river.port("cap");
        io.netty.channel.Channel listener = river.service("cap").listeners().get(0);
        long reclaimedBefore = limiter("cap").reclaimed();
        try (RawHttp first = new RawHttp("127.0.0.1", port); RawHttp second = new RawHttp("127.0.0.2", port)) {
            // Both hold a request in progress: neither is an idle keep-alive connection to reclaim.
            first.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
            second.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
            Eventually.await(() -> origin.heldRequests() == 2, 10_000);
            Eventually.await(() -> !listener.config().isAutoRead(), 10_000);
            try (RawHttp waiting = new RawHttp("127.0.0.1", port)) {
                // The kernel completed the handshake; River has not accepted it and sends nothing.
                waiting.send(GET);
                first.close();
                assertThat(waiting.read().status()).as("accepted once a connection closed").isEqualTo(200);
            }
            origin.releaseHeld();
            assertThat(second.read().status()).isEqualTo(200);
        }
        assertThat(limiter("cap").pauses()).isGreaterThanOrEqualTo(1);
        assertThat(limiter("cap").refusedOverCap()).as("graceful: nothing accepted was refused").isZero();
        assertThat(limiter("cap").reclaimed()).as("no idle connection to reclaim").isEqualTo(reclaimedBefore);
    }

    @Test
    void atTheServiceCapAnIdleKeepAliveConnectionMakesRoom() throws Exception {
        int port = river.port("cap");
        long reclaimedBefore = limiter("cap").reclaimed();
        try (RawHttp first = new RawHttp("127.0.0.1", port)) {
            first.timeout(10_000);
            assertThat(first.send(GET).read().status()).isEqualTo(200);
            // first now waits idle for its next request; second fills the cap, and nginx's way is taken:
            // the idle keep-alive connection is closed (cleanly: its client may resend) to make room.
            RawHttp second = new RawHttp("127.0.0.2", port);
            second.timeout(10_000);
            assertThat(second.send(GET).read().status()).isEqualTo(200);
            assertThat(first.closedByPeer()).as("the idle keep-alive connection was reclaimed").isTrue();
            try (RawHttp third = new RawHttp("127.0.0.1", port)) {
                third.timeout(10_000);
                assertThat(third.send(GET).read().status()).as("a new client is served at once").isEqualTo(200);
            }
            second.close();
        }
        assertThat(limiter("cap").reclaimed() - reclaimedBefore).isGreaterThanOrEqualTo(1);
        assertThat(limiter("cap").refusedOverCap()).isZero();
    }

    @Test
    void pipelinedRequestsPastTheLimitAreDroppedAndTheLastOneTakenClosesTheConnection() throws Exception {
        int before = origin.requestsReceived();
        try (RawHttp c = new RawHttp("127.0.0.1", river.port("requests"))) {
            // The first is held at the origin, so the other four are read while it is in progress.
            c.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n" + GET.repeat(4));
            Eventually.await(() -> origin.heldRequests() == 1, 10_000);
            origin.releaseHeld();
            assertThat(c.read().status()).isEqualTo(200);
            RawHttp.Response second = c.read();
            assertThat(second.headers().get("connection")).isNull();
            RawHttp.Response third = c.read();
            assertThat(third.status()).isEqualTo(200);
            assertThat(third.headers().get("connection")).as("the last request taken").isEqualTo("close");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(origin.requestsReceived() - before).as("the two past the limit never reached the origin").isEqualTo(3);
    }

    @Test
    void aRequestWithMoreHeaderFieldsThanAllowedGets431() throws Exception {
        int before = origin.requestsReceived();
        String eight = "GET /echo HTTP/1.1\r\nHost: h\r\n" + "X-A: 1\r\n".repeat(7) + "Connection: close\r\n\r\n";
        assertThat(request("127.0.0.1", "requests", eight).status()).isEqualTo(431);
        String seven = "GET /echo HTTP/1.1\r\nHost: h\r\n" + "X-A: 1\r\n".repeat(5) + "Connection: close\r\n\r\n";
        assertThat(request("127.0.0.1", "requests", seven).status()).isEqualTo(200);
        assertThat(origin.requestsReceived() - before).isEqualTo(1);
    }

    @Test
    void anHttp1BodyOverTheLimitGets413WhetherDeclaredOrChunked() throws Exception {
        int before = origin.requestsReceived();
        String declared = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n" + "x".repeat(101);
        assertThat(request("127.0.0.1", "requests", declared).status()).as("refused on its Content-Length").isEqualTo(413);
        assertThat(origin.requestsReceived()).isEqualTo(before);
        String chunk = "x".repeat(60);
        String chunked = "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3c\r\n" + chunk + "\r\n3c\r\n" + chunk + "\r\n0\r\n\r\n";
        assertThat(request("127.0.0.1", "requests", chunked).status()).as("counted as it arrives").isEqualTo(413);
        String fits = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\nConnection: close\r\n\r\n" + "x".repeat(100);
        assertThat(request("127.0.0.1", "requests", fits).status()).isEqualTo(200);
    }

    @Test
    void anHttp2BodyOverTheLimitNeverReachesTheOriginAndOneWithinItDoes() throws Exception {
        String url = "http://127.0.0.1:" + river.port("requests") + "/echo";
        int before = origin.requestsReceived();
        assertThat(curl("x".repeat(300), "--data-binary", "@-", url)).as("refused on its content-length").doesNotEndWith(" 200");
        assertThat(origin.requestsReceived()).isEqualTo(before);
        assertThat(curl("x".repeat(300), "-T", "-", url)).as("without a length: counted as DATA arrives").doesNotEndWith(" 200");
        assertThat(curl("x".repeat(100), "-T", "-", url)).isEqualTo("2 200");
    }

    @Test
    void anHttp2BodyOverTheLimitGets413WhetherDeclaredOrNot() throws Exception {
        String url = "http://127.0.0.1:" + river.port("requests") + "/echo";
        assertThat(curl("x".repeat(300), "--data-binary", "@-", url)).isEqualTo("2 413");
        assertThat(curl("x".repeat(300), "-T", "-", url)).isEqualTo("2 413");
    }

    @Test
    void anHttp2ConnectionIsOfferedTheConfiguredNumberOfConcurrentStreams() throws Exception {
        // nghttp (nghttp2-client) speaks h2c with prior knowledge and prints the SETTINGS River sends.
        Process p = new ProcessBuilder("nghttp", "-nv", "http://127.0.0.1:" + river.port("requests") + "/echo")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7]");
    }

    /** curl over HTTP/2 with prior knowledge, {@code stdin} as the body; prints "version status". */
    private static String curl(String stdin, String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("curl", "-s", "-o", "/dev/null",
                "--http2-prior-knowledge", "-w", "%{http_version} %{http_code}"));
        command.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out.trim();
    }
}
