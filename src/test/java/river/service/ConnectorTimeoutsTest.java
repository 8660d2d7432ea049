package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** River 0.8's per-connector timeouts override the service's. */
class ConnectorTimeoutsTest {

    private static RawHttp.Response get(RiverHarness river, String path) throws Exception {
        try (RawHttp raw = new RawHttp(river.port("proxy"))) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            return raw.read();
        }
    }

    /** A proxy whose service-level timeouts are an hour, so that any timeout seen is the connector's. */
    private static String config(TestOrigin origin, String connectorTimeouts) {
        return RiverHarness.proxyConfig(1, "    timeouts upstream-response-ms=3600000 body-idle-ms=3600000\n"
                        + "    upstream-pool idle-timeout-ms=3600000\n", origin.address())
                .replace("\"" + origin.address() + "\"", "\"" + origin.address() + "\" " + connectorTimeouts);
    }

    @Test
    void readTimeoutOfTheConnectorBoundsTheWaitForTheResponse() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(origin, "read-timeout-ms=300"))) {
            // The origin never answers; the service would wait an hour, the client's socket 10 s.
            RawHttp.Response timedOut = get(river, "/hang");
            assertThat(timedOut.status()).isEqualTo(504);
            assertThat(timedOut.text()).contains("upstream did not answer in time");
            assertThat(get(river, "/echo").status()).isEqualTo(200);
        }
    }

    @Test
    void idleTimeoutOfTheConnectorRetiresPooledConnections() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(origin, "idle-timeout-ms=150"))) {
            try (RawHttp raw = new RawHttp(river.port("proxy"))) {
                for (int i = 0; i < 3; i++) {
                    raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(raw.read().status()).isEqualTo(200);
                }
                assertThat(origin.connectionsAccepted()).as("reused while fresh").isEqualTo(1);
                // River closes the idle connection itself (the service's pool would keep it an hour).
                Eventually.await(() -> origin.connectionsClosed() == 1, 30_000);
                raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(raw.read().status()).isEqualTo(200);
                assertThat(origin.connectionsAccepted()).as("a new connection after the idle timeout").isEqualTo(2);
            }
        }
    }
}
