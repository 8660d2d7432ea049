package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.upstream.ConnectionPool;

/** The upstream pool is shared by all event loops of a service and never uses a dead connection. */
class UpstreamPoolTest {

    @Test
    void thousandSequentialRequestsOverAllThreadsOpenOnlyAHandfulOfUpstreamConnections() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(4, "", origin.address()))) {
            int port = river.port("proxy");
            // Eight client connections land on all four event loops; requests go one at a time.
            List<RawHttp> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                clients.add(new RawHttp(port));
            }
            for (int i = 0; i < 1000; i++) {
                RawHttp c = clients.get(i % clients.size());
                c.send("GET /echo?i=" + i + " HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
            }
            for (RawHttp c : clients) {
                c.close();
            }
            ConnectionPool pool = river.service("proxy").pool();
            assertThat(origin.requestsReceived()).isEqualTo(1000);
            assertThat(origin.connectionsAccepted()).isLessThanOrEqualTo(4);
            assertThat(pool.connects()).isEqualTo(origin.connectionsAccepted());
            assertThat(pool.reuses()).isGreaterThanOrEqualTo(996);
        }
    }

    @Test
    void aClientGivingUpMidResponseDoesNotCostTheUpstreamConnection() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            int port = river.port("proxy");
            for (int i = 0; i < 5; i++) {
                int received = i + 1;
                try (RawHttp quitter = new RawHttp(port)) {
                    quitter.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
                    Eventually.await(() -> origin.heldRequests() == 1 && origin.requestsReceived() == received, 30_000);
                }
                // The client has left; only now does the origin answer.
                origin.releaseHeld();
                Eventually.await(() -> river.service("proxy").pool().idleCount() == 1, 30_000);
            }
            try (RawHttp client = new RawHttp(port)) {
                client.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(client.read().status()).isEqualTo(200);
            }
            assertThat(origin.requestsReceived()).isEqualTo(6);
            assertThat(origin.connectionsAccepted()).isEqualTo(1);
        }
    }

    @Test
    void aLongResponseWhoseClientLeftIsCutOffNotDrained() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            int port = river.port("proxy");
            try (RawHttp quitter = new RawHttp(port)) {
                quitter.send("GET /bytes?n=50000000 HTTP/1.1\r\nHost: h\r\n\r\n");
                quitter.socket().getInputStream().read(new byte[4096]);
            }
            // River reads at most 64 KiB more of the 50 MB, then closes the connection.
            Eventually.await(() -> origin.connectionsAccepted() == 1 && river.service("proxy").pool().idleCount() == 0, 30_000);
            try (RawHttp client = new RawHttp(port)) {
                client.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(client.read().status()).isEqualTo(200);
            }
            assertThat(origin.connectionsAccepted()).isEqualTo(2);
            assertThat(origin.bytesWritten.get()).isLessThan(20_000_000);
        }
    }

    @Test
    void connectionClosedByTheOriginWhileIdleIsNeverUsed() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            int port = river.port("proxy");
            try (RawHttp client = new RawHttp(port)) {
                for (int i = 0; i < 20; i++) {
                    int closed = i + 1;
                    client.send("GET /then-close?ms=20 HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(client.read().status()).isEqualTo(200);
                    // The origin has closed its side and River has dropped the connection from the pool.
                    Eventually.await(() -> origin.connectionsClosed() == closed && river.service("proxy").pool().idleCount() == 0, 30_000);
                }
            }
            assertThat(origin.connectionsAccepted()).isEqualTo(20);
            assertThat(river.service("proxy").pool().idleCount()).isZero();
        }
    }

    @Test
    void aConnectionClosedJustAsItIsReusedIsRetriedTransparently() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            int port = river.port("proxy");
            try (RawHttp client = new RawHttp(port)) {
                for (int i = 0; i < 10; i++) {
                    // The origin answers, then closes the connection when the next request arrives on
                    // it, unanswered: the request River sent on a reused connection must be retried.
                    client.send("GET /then-close-on-next HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(client.read().status()).isEqualTo(200);
                }
            }
            assertThat(origin.requestsReceived()).as("each request after the first was sent twice").isEqualTo(19);
            assertThat(origin.connectionsAccepted()).isEqualTo(10);
        }
    }

    @Test
    void aConnectionClosedByTheOriginRacingTheNextRequestNeverFailsIt() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            int port = river.port("proxy");
            try (RawHttp client = new RawHttp(port)) {
                for (int i = 0; i < 30; i++) {
                    // The origin closes 1-3 ms after answering: the next request races that close,
                    // landing before, during or after it.
                    client.send("GET /then-close?ms=" + (1 + i % 3) + " HTTP/1.1\r\nHost: h\r\n\r\n");
                    assertThat(client.read().status()).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void idleConnectionsAreBoundedPerUpstream() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(2, "    upstream-pool max-idle-per-upstream=2\n", origin.address()))) {
            int port = river.port("proxy");
            // Six requests in flight at once need six connections; back in the pool, two may stay.
            List<RawHttp> clients = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                RawHttp c = new RawHttp(port);
                c.send("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
                clients.add(c);
            }
            Eventually.await(() -> origin.heldRequests() == 6, 30_000);
            origin.releaseHeld();
            for (RawHttp c : clients) {
                assertThat(c.read().status()).isEqualTo(200);
                c.close();
            }
            Eventually.await(() -> origin.connectionsClosed() == 4, 30_000);
            assertThat(origin.connectionsAccepted()).isEqualTo(6);
            assertThat(river.service("proxy").pool().idleCount()).isEqualTo(2);
        }
    }
}
