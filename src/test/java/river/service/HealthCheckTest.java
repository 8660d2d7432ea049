package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static river.testsupport.Eventually.await;

import org.junit.jupiter.api.Test;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.upstream.ConnectionPool;
import river.upstream.PoolCounters;

/** Active and passive health checks against real origins that go down and come back. */
class HealthCheckTest {

    private static String config(String healthCheck, String... origins) {
        StringBuilder connectors = new StringBuilder();
        for (String o : origins) {
            connectors.append("            \"").append(o).append("\"\n");
        }
        return """
                system {
                    threads-per-service 2
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            load-balance {
                                selection "RoundRobin"
                                %s
                            }
                %s        }
                    }
                }
                """.formatted(healthCheck, connectors);
    }

    private static int get(RiverHarness river, String path) throws Exception {
        try (RawHttp raw = new RawHttp(river.port("proxy"))) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
            return raw.read().status();
        }
    }

    /** What the health checker logs when a peer's verdict flips. */
    private static String ejected(TestOrigin o) {
        return o.address() + " failed";
    }

    private static String admitted(TestOrigin o) {
        return o.address() + " passed its health checks";
    }

    @Test
    void httpCheckEjectsAnUnhealthyServerAndReadmitsItWithoutAFailedRequest() throws Exception {
        try (LogCapture log = LogCapture.of("river.health");
                TestOrigin a = new TestOrigin(); TestOrigin b = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(
                        "health-check \"HTTP\" host=\"app\" path=\"/health\" frequency-ms=100 timeout-ms=500 consecutive-failure=2 consecutive-success=2",
                        a.address(), b.address()))) {
            // Both pass their first check before River accepts: traffic is shared from the start.
            for (int i = 0; i < 20; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).isEqualTo(10);
            int admissions = log.count(admitted(b));
            b.healthy.set(false);
            log.await(ejected(b));
            int bBefore = b.requestsReceived();
            for (int i = 0; i < 30; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).as("no traffic to the ejected server").isEqualTo(bBefore);
            b.healthy.set(true);
            log.await(admitted(b), admissions + 1);
            for (int i = 0; i < 20; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived() - bBefore).as("readmitted: round robin gives it every other request").isEqualTo(10);
        }
    }

    @Test
    void tcpCheckFollowsAServerThatGoesAwayAndComesBackOnItsPort() throws Exception {
        TestOrigin a = new TestOrigin();
        TestOrigin b = new TestOrigin();
        int bPort = b.port();
        try (LogCapture log = LogCapture.of("river.health");
                RiverHarness river = RiverHarness.start(config(
                "health-check \"TCP\" frequency-ms=100 timeout-ms=300 consecutive-failure=1 consecutive-success=1", a.address(), b.address()))) {
            int admissions = log.count(admitted(b));
            b.close();
            // Until the check notices, a request sent to the dead server is retried on the live one.
            for (int i = 0; i < 4; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            log.await(ejected(b));
            for (int i = 0; i < 4; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            b = TestOrigin.at("127.0.0.1", bPort);
            log.await(admitted(b), admissions + 1);
            for (int i = 0; i < 2; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).as("back in the rotation: one of the next two requests").isEqualTo(1);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void whenEveryServerIsUnhealthyRiverAnswers502WithoutDialling() throws Exception {
        try (LogCapture log = LogCapture.of("river.health");
                TestOrigin a = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(
                        "health-check \"HTTP\" host=\"app\" path=\"/health\" frequency-ms=100 timeout-ms=300", a.address()))) {
            assertThat(get(river, "/echo")).isEqualTo(200);
            a.healthy.set(false);
            log.await(ejected(a));
            long dials = PoolCounters.dialsStarted(river.service("proxy").pool());
            try (RawHttp raw = new RawHttp(river.port("proxy"))) {
                raw.send("GET /echo HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
                RawHttp.Response r = raw.read();
                assertThat(r.status()).isEqualTo(502);
                assertThat(r.text()).contains("no upstream available");
            }
            assertThat(PoolCounters.dialsStarted(river.service("proxy").pool())).as("no connection attempted").isEqualTo(dials);
            assertThat(a.requestsReceived()).isEqualTo(1);
        }
    }

    @Test
    void aServerThatIsDownAtStartNeverGetsARequest() throws Exception {
        TestOrigin dead = new TestOrigin();
        String deadAddress = dead.address();
        dead.close();
        try (TestOrigin a = new TestOrigin();
                RiverHarness river = RiverHarness.start(config("health-check \"TCP\" frequency-ms=1000 timeout-ms=300", a.address(), deadAddress))) {
            for (int i = 0; i < 10; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(a.requestsReceived()).isEqualTo(10);
            ConnectionPool pool = river.service("proxy").pool();
            // A dial to the dead server would be refused (and retried on a): attempts would exceed successes.
            assertThat(PoolCounters.dialsStarted(pool)).as("never dialled the dead server").isEqualTo(pool.connects());
        }
    }

    @Test
    void passiveChecksEjectAServerThatKeepsRefusingConnections() throws Exception {
        TestOrigin dead = new TestOrigin();
        String deadAddress = dead.address();
        dead.close();
        try (TestOrigin a = new TestOrigin();
                RiverHarness river = RiverHarness.start(config("", a.address(), deadAddress))) {
            for (int i = 0; i < 30; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            var group = river.service("proxy").upstreamGroups().get(0);
            var deadPeer = group.peers().get(1);
            assertThat(group.select("/", null, null)).isEqualTo(group.peers().get(0));
            assertThat(group.select("/", null, null)).as("ejected after three refused connects").isEqualTo(group.peers().get(0));
            assertThat(deadPeer.label()).isEqualTo(deadAddress);
        }
    }

    @Test
    void httpChecksCanReuseTheirConnectionAndCheckAnotherPort() throws Exception {
        try (TestOrigin traffic = new TestOrigin(); TestOrigin healthPort = new TestOrigin()) {
            String check = "health-check \"HTTP\" host=\"app\" path=\"/health\" port=" + healthPort.port()
                    + " reuse-connection=true frequency-ms=50 timeout-ms=500";
            try (LogCapture log = LogCapture.of("river.health");
                    RiverHarness river = RiverHarness.start(config(check, traffic.address()))) {
                int before = healthPort.healthChecksReceived();
                await(() -> healthPort.healthChecksReceived() >= before + 5, 30_000);
                assertThat(traffic.healthChecksReceived()).as("checked on the other port").isZero();
                assertThat(healthPort.connectionsAccepted()).as("one kept-open check connection").isEqualTo(1);
                assertThat(get(river, "/echo")).isEqualTo(200);
                // The health endpoint fails: traffic stops although the traffic port is fine.
                healthPort.healthy.set(false);
                log.await(ejected(traffic));
                assertThat(get(river, "/echo")).isEqualTo(502);
            }
        }
    }
}
