package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Upstream failures become 502/504, client-side timeouts close connections, nothing hangs. */
class FailuresAndTimeoutsTest {
    static TestOrigin origin;
    static RiverHarness river;
    static RiverHarness refused;
    static int port;
    static int closedPort;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        river = RiverHarness.start(RiverHarness.proxyConfig(2,
                "    timeouts upstream-response-ms=500 body-idle-ms=500 request-header-ms=500 keepalive-idle-ms=700\n",
                origin.address()));
        port = river.port("proxy");
        refused = RiverHarness.start(RiverHarness.proxyConfig(1, "", "127.0.0.1:" + closedPort));
    }

    @AfterAll
    static void stop() {
        river.close();
        refused.close();
        origin.close();
    }

    private static RawHttp.Response get(int port, String path) throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
            return raw.read();
        }
    }

    @Test
    void connectionRefusedGives502() throws Exception {
        RawHttp.Response r = get(refused.port("proxy"), "/");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.text()).contains("could not connect to upstream");
    }

    @Test
    void originClosingWithoutAnswerGives502() throws Exception {
        assertThat(get(port, "/close").status()).isEqualTo(502);
    }

    @Test
    void malformedResponseGives502() throws Exception {
        assertThat(get(port, "/garbage").status()).isEqualTo(502);
    }

    @Test
    void anOriginThatNeverAnswersGives504() throws Exception {
        // The origin holds the request forever: only River's upstream-response timeout can answer it.
        RawHttp.Response r = get(port, "/hang");
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.text()).contains("upstream did not answer in time");
    }

    @Test
    void stalledResponseBodyAbortsTheClientConnection() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /stall HTTP/1.1\r\nHost: h\r\n\r\n");
            // The head and 10 bytes arrive, then the connection is cut rather than left hanging.
            java.io.InputStream in = raw.socket().getInputStream();
            byte[] buf = new byte[4096];
            int total = 0;
            int n;
            try {
                while ((n = in.read(buf)) != -1) {
                    total += n;
                }
            } catch (java.net.SocketException reset) {
                // A reset is the expected signal of an incomplete response.
            }
            assertThat(total).isPositive();
        }
    }

    @Test
    void slowlorisClientIsDisconnected() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET / HTTP/1.1\r\nHost: h\r\n");
            assertThat(raw.closedByPeer()).isTrue();
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosed() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            assertThat(raw.closedByPeer()).isTrue();
        }
    }

    @Test
    void failedConnectIsRetriedOnTheNextConnector() throws Exception {
        try (RiverHarness twoPeers = RiverHarness.start(RiverHarness.proxyConfig(1, "", "127.0.0.1:" + closedPort, origin.address()))) {
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                statuses.add(get(twoPeers.port("proxy"), "/echo").status());
            }
            assertThat(statuses).containsOnly(200);
        }
    }

    @Test
    void clientThatVanishesMidResponseDoesNotDisturbOthers() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write("GET /bytes?n=50000000 HTTP/1.1\r\nHost: h\r\n\r\n".getBytes());
            s.getInputStream().readNBytes(100_000);
        }
        assertThat(get(port, "/echo").status()).isEqualTo(200);
    }
}
