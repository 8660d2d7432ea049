package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static river.testsupport.Eventually.await;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

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

    @Test
    void httpCheckEjectsAnUnhealthyServerAndReadmitsItWithoutAFailedRequest() throws Exception {
        try (TestOrigin a = new TestOrigin(); TestOrigin b = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(
                        "health-check \"HTTP\" host=\"app\" path=\"/health\" frequency-ms=100 timeout-ms=500 consecutive-failure=2 consecutive-success=2",
                        a.address(), b.address()))) {
            // Both pass their first check before River accepts: traffic is shared from the start.
            for (int i = 0; i < 20; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).isEqualTo(10);
            b.healthy.set(false);
            int checksAtFailure = b.healthChecksReceived();
            await(() -> b.healthChecksReceived() >= checksAtFailure + 3, 3000);
            int bBefore = b.requestsReceived();
            for (int i = 0; i < 30; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).as("no traffic to the ejected server").isEqualTo(bBefore);
            b.healthy.set(true);
            int checksAtRecovery = b.healthChecksReceived();
            await(() -> b.healthChecksReceived() >= checksAtRecovery + 3, 3000);
            for (int i = 0; i < 20; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
            }
            assertThat(b.requestsReceived()).as("readmitted after two passing checks").isGreaterThan(bBefore + 5);
        }
    }

    @Test
    void tcpCheckFollowsAServerThatGoesAwayAndComesBackOnItsPort() throws Exception {
        TestOrigin a = new TestOrigin();
        TestOrigin b = new TestOrigin();
        int bPort = b.port();
        try (RiverHarness river = RiverHarness.start(config(
                "health-check \"TCP\" frequency-ms=100 timeout-ms=300 consecutive-failure=1 consecutive-success=1", a.address(), b.address()))) {
            b.close();
            // Until the check notices, a request sent to the dead server is retried on the live one.
            for (int i = 0; i < 40; i++) {
                assertThat(get(river, "/echo")).isEqualTo(200);
                Thread.sleep(5);
            }
            b = TestOrigin.at("127.0.0.1", bPort);
            TestOrigin back = b;
            await(() -> {
                try {
                    get(river, "/echo");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return back.requestsReceived() > 0;
            }, 3000);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void whenEveryServerIsUnhealthyRiverAnswers502AtOnce() throws Exception {
        try (TestOrigin a = new TestOrigin();
                RiverHarness river = RiverHarness.start(config(
                        "health-check \"HTTP\" host=\"app\" path=\"/health\" frequency-ms=100 timeout-ms=300", a.address()))) {
            assertThat(get(river, "/echo")).isEqualTo(200);
            a.healthy.set(false);
            int checks = a.healthChecksReceived();
            await(() -> a.healthChecksReceived() >= checks + 2, 3000);
            long start = System.nanoTime();
            assertThat(get(river, "/echo")).isEqualTo(502);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(200);
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
            assertThat(river.service("proxy").pool().connects()).as("never dialled the dead server").isLessThanOrEqualTo(10);
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
            try (RiverHarness river = RiverHarness.start(config(check, traffic.address()))) {
                int before = healthPort.healthChecksReceived();
                await(() -> healthPort.healthChecksReceived() >= before + 5, 3000);
                assertThat(traffic.healthChecksReceived()).as("checked on the other port").isZero();
                assertThat(healthPort.connectionsAccepted()).as("one kept-open check connection").isEqualTo(1);
                assertThat(get(river, "/echo")).isEqualTo(200);
                // The health endpoint fails: traffic stops although the traffic port is fine.
                healthPort.healthy.set(false);
                int failing = healthPort.healthChecksReceived();
                await(() -> healthPort.healthChecksReceived() >= failing + 2, 3000);
                assertThat(get(river, "/echo")).isEqualTo(502);
            }
        }
    }
}
