package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
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

    @Test
    void readTimeoutOfTheConnectorBoundsTheWaitForTheResponse() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address())
                        .replace("\"" + origin.address() + "\"", "\"" + origin.address() + "\" read-timeout-ms=300"))) {
            long start = System.nanoTime();
            assertThat(get(river, "/slow?ms=3000").status()).isEqualTo(504);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 2000L);
            assertThat(get(river, "/slow?ms=50").status()).isEqualTo(200);
        }
    }

    @Test
    void idleTimeoutOfTheConnectorRetiresPooledConnections() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address())
                        .replace("\"" + origin.address() + "\"", "\"" + origin.address() + "\" idle-timeout-ms=150"))) {
            try (RawHttp raw = new RawHttp(river.port("proxy"))) {
                for (int i = 0; i < 3; i++) {
                    raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(raw.read().status()).isEqualTo(200);
                }
                assertThat(origin.connectionsAccepted()).as("reused while fresh").isEqualTo(1);
                Thread.sleep(400);
                raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(raw.read().status()).isEqualTo(200);
                assertThat(origin.connectionsAccepted()).as("a new connection after the idle timeout").isEqualTo(2);
            }
        }
    }
}
