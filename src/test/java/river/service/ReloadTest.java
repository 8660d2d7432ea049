package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * In-place reload through {@link RiverServer#reload}: a new generation for new connections, kept
 * listeners never closed, pools of unchanged upstreams kept, an invalid configuration changing nothing.
 */
class ReloadTest {
    /**
     * A proxy service listening on {@code listeners}, in front of {@code origin}, tagging its answers with
     * {@code generation}. One thread: the pool's connection released after an answer is then always
     * back before the next request, so a new upstream connection means the reload opened it.
     */
    static String config(String generation, TestOrigin origin, int graceSeconds, String... listeners) {
        StringBuilder l = new StringBuilder();
        for (String address : listeners) {
            l.append("      \"").append(address).append("\"\n");
        }
        return """
                system {
                  threads-per-service 1
                  grace-period-seconds %d
                }
                services {
                  proxy {
                    listeners {
                %s    }
                    connectors {
                      "%s"
                    }
                    path-control {
                      response-filters {
                        filter kind="upsert-header" key="x-generation" value="%s"
                      }
                    }
                  }
                }
                """.formatted(graceSeconds, l, origin.address(), generation);
    }

    private static RiverConfig parse(String kdl) throws Exception {
        return new ConfigLoader(Path.of("").toAbsolutePath()).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    /** One request on a new connection. */
    private static RawHttp.Response get(int port, String path) throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            return raw.read();
        }
    }

    @Test
    void newConnectionsGetTheNewGenerationAndAnUnchangedUpstreamKeepsItsPool() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(config("one", origin, 30, "127.0.0.1:0"))) {
            int port = river.port("proxy");
            assertThat(get(port, "/echo").headers()).containsEntry("x-generation", "one");
            assertThat(origin.connectionsAccepted()).isEqualTo(1);
            var pool = river.service("proxy").pool();
            var group = river.service("proxy").upstreamGroups().get(0);

            ReloadOutcome outcome = river.server().reload(parse(config("two", origin, 30, "127.0.0.1:0")));

            assertThat(outcome.ok()).isTrue();
            assertThat(outcome.describe()).matches("reload 1: ok in \\d+ ms: services \\+0 -0 ~1, listeners 1 kept, 0 added, 0 removed; serving generation 2");
            assertThat(river.port("proxy")).as("the listening socket is the same one").isEqualTo(port);
            for (int i = 0; i < 5; i++) {
                assertThat(get(port, "/echo").headers()).containsEntry("x-generation", "two");
            }
            assertThat(river.service("proxy").pool()).isSameAs(pool);
            assertThat(river.service("proxy").upstreamGroups().get(0)).isSameAs(group);
            assertThat(origin.connectionsAccepted()).as("the pooled upstream connection served the new generation").isEqualTo(1);
        }
    }

    @Test
    void keepAliveConnectionFinishesOnItsGenerationWithConnectionCloseThenTheGenerationIsReleased() throws Exception {
        try (TestOrigin origin = new TestOrigin(); TestOrigin second = new TestOrigin();
                RiverHarness river = RiverHarness.start(config("one", origin, 3600, "127.0.0.1:0"));
                LogCapture log = LogCapture.of("river.service")) {
            int port = river.port("proxy");
            try (RawHttp keepAlive = new RawHttp(port)) {
                keepAlive.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(keepAlive.read().headers()).containsEntry("x-generation", "one").doesNotContainKey("connection");

                assertThat(river.server().reload(parse(config("two", second, 3600, "127.0.0.1:0"))).ok()).isTrue();

                assertThat(get(port, "/echo").headers()).containsEntry("x-generation", "two");
                assertThat(second.requestsReceived()).as("the changed upstream serves the new generation").isEqualTo(1);
                assertThat(river.server().retiredConnections()).as("the idle keep-alive connection was left open").isEqualTo(1);
                keepAlive.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                RawHttp.Response last = keepAlive.read();
                assertThat(last.headers()).as("a connection is served by the generation it was accepted by, and told to move on")
                        .containsEntry("x-generation", "one").containsEntry("connection", "close");
                assertThat(origin.requestsReceived()).isEqualTo(2);
                assertThat(keepAlive.closedByPeer()).isTrue();
            }
            log.await("generation 1 released: its last connection has ended");
            assertThat(river.server().retiredConnections()).isZero();
        }
    }

    @Test
    void aRequestStillRunningWhenTheGracePeriodEndsIsCutAndTheGenerationReleased() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(config("one", origin, 1, "127.0.0.1:0"));
                LogCapture log = LogCapture.of("river.service")) {
            try (RawHttp held = new RawHttp(river.port("proxy"))) {
                held.timeout(30_000);
                held.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
                Eventually.await(() -> origin.heldRequests() == 1, 30_000);

                assertThat(river.server().reload(parse(config("two", origin, 1, "127.0.0.1:0"))).ok()).isTrue();

                log.await("generation 1: grace period over, closing its 1 remaining connection(s)");
                log.await("generation 1 released");
                assertThat(held.closedByPeer()).isTrue();
                assertThat(river.server().retiredConnections()).isZero();
            } finally {
                origin.releaseHeld();
            }
        }
    }

    @Test
    void listenersOfTheSameAddressAreKeptNewOnesBoundRemovedOnesClosed() throws Exception {
        int kept = Ports.free();
        int removed = Ports.free();
        int added = Ports.free();
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(config("one", origin, 30, "127.0.0.1:" + kept, "127.0.0.1:" + removed))) {
            assertThat(get(removed, "/echo").status()).isEqualTo(200);
            try (RawHttp idle = new RawHttp(kept)) {
                idle.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                idle.read();

                ReloadOutcome outcome = river.server().reload(parse(config("two", origin, 30, "127.0.0.1:" + kept, "127.0.0.1:" + added)));

                assertThat(outcome.describe()).contains("listeners 1 kept, 1 added, 1 removed");
                assertThat(get(kept, "/echo").headers()).containsEntry("x-generation", "two");
                assertThat(get(added, "/echo").headers()).containsEntry("x-generation", "two");
                assertThatThrownBy(() -> new Socket("127.0.0.1", removed).close()).isInstanceOf(ConnectException.class);
                idle.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(idle.read().status()).as("a connection of the kept listener lives on").isEqualTo(200);
            }
        }
    }

    @Test
    void listenersWrittenWithTheSameAddressKeepTheirOwnSettingsThroughAReload() throws Exception {
        try (TestOrigin origin = new TestOrigin()) {
            // Two "127.0.0.1:0" listeners: the first plain, the second expecting a PROXY protocol header.
            String kdl = config("one", origin, 30, "127.0.0.1:0", "127.0.0.1:0")
                    .replace("\"127.0.0.1:0\"\n    }", "\"127.0.0.1:0\" proxy-protocol=true\n    }");
            assertThat(kdl).contains("proxy-protocol=true");
            try (RiverHarness river = RiverHarness.start(kdl)) {
                for (String generation : List.of("one", "two")) {
                    if (generation.equals("two")) {
                        ReloadOutcome outcome = river.server().reload(parse(kdl.replace("value=\"one\"", "value=\"two\"")));
                        assertThat(outcome.describe()).contains("listeners 2 kept, 0 added, 0 removed");
                    }
                    List<java.net.SocketAddress> bound = river.service("proxy").boundAddresses();
                    int plain = ((java.net.InetSocketAddress) bound.get(0)).getPort();
                    int proxied = ((java.net.InetSocketAddress) bound.get(1)).getPort();
                    assertThat(get(plain, "/echo").headers()).containsEntry("x-generation", generation);
                    try (RawHttp raw = new RawHttp(proxied)) {
                        raw.send("PROXY TCP4 10.1.2.3 127.0.0.1 5555 80\r\nGET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                        RawHttp.Response r = raw.read();
                        assertThat(r.headers()).containsEntry("x-generation", generation);
                        assertThat(r.text()).contains("10.1.2.3");
                    }
                }
            }
        }
    }

    @Test
    void invalidConfigurationIsReportedWithItsLineAndTheOldGenerationKeepsServing() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(config("one", origin, 30, "127.0.0.1:0"));
                LogCapture log = LogCapture.of("river.service")) {
            int port = river.port("proxy");
            // Line 15: a filter kind River does not know.
            String broken = config("two", origin, 30, "127.0.0.1:0").replace("kind=\"upsert-header\"", "kind=\"no-such-filter\"");
            ConfigLoader loader = new ConfigLoader(Path.of("").toAbsolutePath());

            ReloadOutcome outcome = river.server().reload(() -> loader.parse(broken, "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));

            assertThat(outcome.ok()).isFalse();
            assertThat(outcome.errors()).anySatisfy(e -> assertThat(e).startsWith("test.kdl:15:"));
            assertThat(log.await("reload 1 failed: test.kdl:15:")).endsWith("; still serving generation 1");
            assertThat(river.server().generation()).isEqualTo(1);
            assertThat(get(port, "/echo").headers()).containsEntry("x-generation", "one");
        }
    }

    @Test
    void listenerThatCannotBeBoundFailsTheReloadAndChangesNothing() throws Exception {
        try (TestOrigin origin = new TestOrigin(); java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                RiverHarness river = RiverHarness.start(config("one", origin, 30, "127.0.0.1:0"))) {
            int port = river.port("proxy");

            ReloadOutcome outcome = river.server().reload(parse(config("two", origin, 30, "127.0.0.1:0", "127.0.0.1:" + taken.getLocalPort())));

            assertThat(outcome.ok()).isFalse();
            assertThat(outcome.describe()).contains("still serving generation 1");
            assertThat(get(port, "/echo").headers()).containsEntry("x-generation", "one");
            assertThat(river.server().services().get(0).boundAddresses()).hasSize(1);
            assertThat(List.of(outcome.errors().get(0))).allSatisfy(e -> assertThat(e).contains("service proxy"));
        }
    }
}
