package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static river.testsupport.Eventually.await;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Dnsmasq;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/** DNS discovery against a real DNS server (dnsmasq) whose records the test changes. */
class DiscoveryTest {
    @TempDir
    Path dir;

    private static String config(Dnsmasq dns, String connectors) {
        return config(dns, connectors, "refresh-bounds min-seconds=1 max-seconds=2");
    }

    private static String config(Dnsmasq dns, String connectors, String loadBalance) {
        return """
                system {
                    threads-per-service 2
                    dns-servers "%s"
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            load-balance {
                                %s
                            }
                            %s
                        }
                    }
                }
                """.formatted(dns.address(), loadBalance, connectors);
    }

    private static String get(RiverHarness river) throws Exception {
        try (RawHttp raw = new RawHttp(river.port("proxy"))) {
            raw.send("GET /echo HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
            RawHttp.Response r = raw.read();
            return r.status() + "";
        }
    }

    @Test
    void addressRecordsAreFollowedAsTheyChange() throws Exception {
        try (TestOrigin one = TestOrigin.at("127.0.0.1", 0); TestOrigin two = TestOrigin.at("127.0.0.2", one.port());
                Dnsmasq dns = new Dnsmasq(dir)) {
            dns.setHosts("127.0.0.1 app.test.internal");
            try (LogCapture log = LogCapture.of("river.discovery");
                    RiverHarness river = RiverHarness.start(config(dns, "dns \"app.test.internal\" port=" + one.port()))) {
                assertThat(river.service("proxy").upstreamGroups().get(0).peers()).extracting(p -> p.label())
                        .containsExactly("127.0.0.1:" + one.port());
                assertThat(get(river)).isEqualTo("200");
                dns.setHosts("127.0.0.1 app.test.internal", "127.0.0.2 app.test.internal");
                await(() -> river.service("proxy").upstreamGroups().get(0).size() == 2, 30_000);
                for (int i = 0; i < 10; i++) {
                    assertThat(get(river)).isEqualTo("200");
                }
                assertThat(two.requestsReceived()).isBetween(4, 6);
                // The first server leaves DNS: new requests go to the one that is left.
                dns.setHosts("127.0.0.2 app.test.internal");
                await(() -> river.service("proxy").upstreamGroups().get(0).size() == 1, 30_000);
                int oneBefore = one.requestsReceived();
                for (int i = 0; i < 5; i++) {
                    assertThat(get(river)).isEqualTo("200");
                }
                assertThat(one.requestsReceived()).isEqualTo(oneBefore);
                // A lookup failure (the name disappears, or the server stops answering) keeps the last good set.
                int failuresBefore = log.count("its last known servers stay in use");
                dns.close();
                log.await("its last known servers stay in use", failuresBefore + 1);
                assertThat(river.service("proxy").upstreamGroups().get(0).size()).isEqualTo(1);
                assertThat(get(river)).isEqualTo("200");
            }
        }
    }

    @Test
    void srvRecordsGivePortsWeightsAndPriorityFallback() throws Exception {
        try (TestOrigin primaryA = new TestOrigin(); TestOrigin primaryB = new TestOrigin(); TestOrigin backup = new TestOrigin();
                Dnsmasq dns = new Dnsmasq(dir)) {
            dns.setHosts("127.0.0.1 a.test.internal", "127.0.0.1 b.test.internal", "127.0.0.1 backup.test.internal");
            dns.setSrv("_http._tcp.app.test.internal,a.test.internal," + primaryA.port() + ",10,300",
                    "_http._tcp.app.test.internal,b.test.internal," + primaryB.port() + ",10,100",
                    "_http._tcp.app.test.internal,backup.test.internal," + backup.port() + ",20,100");
            try (RiverHarness river = RiverHarness.start(config(dns, "srv \"_http._tcp.app.test.internal\"",
                    "health-check \"TCP\" frequency-ms=100 timeout-ms=300\nrefresh-bounds min-seconds=1 max-seconds=2"))) {
                var group = river.service("proxy").upstreamGroups().get(0);
                Map<Integer, Integer> ports = new HashMap<>();
                group.peers().forEach(p -> ports.put(p.address().getPort(), p.weight()));
                assertThat(ports).containsEntry(primaryA.port(), 100).containsEntry(primaryB.port(), 33).containsEntry(backup.port(), 33);
                for (int i = 0; i < 133; i++) {
                    assertThat(get(river)).isEqualTo("200");
                }
                // Weighted 300:100 → 100:33 (a re-resolution restarts the rotation, so allow a little slack).
                assertThat(primaryA.requestsReceived()).isBetween(96, 104);
                assertThat(primaryB.requestsReceived()).isBetween(29, 37);
                assertThat(backup.requestsReceived()).as("priority 20 is a fallback only").isZero();
                // Every server of the preferred priority goes down: the next priority takes over.
                primaryA.close();
                primaryB.close();
                await(() -> {
                    try {
                        return get(river).equals("200") && backup.requestsReceived() > 0;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, 30_000);
                for (int i = 0; i < 10; i++) {
                    assertThat(get(river)).isEqualTo("200");
                }
                // The SRV records change: the dead primaries are withdrawn, the backup becomes the only target.
                dns.setSrv("_http._tcp.app.test.internal,backup.test.internal," + backup.port() + ",10,100");
                await(() -> group.size() == 1, 30_000);
                assertThat(group.peers().get(0).address().getPort()).isEqualTo(backup.port());
                assertThat(group.peers().get(0).priority()).isEqualTo(10);
                assertThat(get(river)).isEqualTo("200");
            }
        }
    }

    @Test
    void tlsTrueUsesTheDiscoveredNameAsSniAndVerifiesIt() throws Exception {
        try (TestOrigin origin = new TestOrigin(TestPki.server("secure.test.internal").serverContext());
                Dnsmasq dns = new Dnsmasq(dir)) {
            dns.setHosts("127.0.0.1 secure.test.internal");
            String connectors = "dns \"secure.test.internal\" port=" + origin.port() + " tls=true ca-path=\"" + TestPki.caCertificate() + "\"";
            try (RiverHarness river = RiverHarness.start(config(dns, connectors))) {
                assertThat(get(river)).isEqualTo("200");
                assertThat(origin.requestsReceived()).isEqualTo(1);
            }
        }
    }
}
