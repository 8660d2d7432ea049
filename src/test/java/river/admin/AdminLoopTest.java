package river.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.config.AdminConfig;
import river.config.ListenAddress;
import river.server.InheritedListeners;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * The admin listener answers while the service's event loop is saturated: here it is held by a task
 * that does not end until the test says so, with a flood of client connections queued behind it, and
 * every admin endpoint still answers, because the admin listener has an event loop of its own.
 */
class AdminLoopTest {
    @Test
    void everyEndpointAnswersWhileTheServicesEventLoopIsHeld() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            AdminConfig config = new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.empty(), true);
            AdminServer.Reloader reloader = () -> CompletableFuture.failedFuture(new IllegalStateException("no reload here"));
            try (AdminServer admin = AdminServer.start(config, river.server(), reloader, InheritedListeners.none())) {
                int adminPort = ((InetSocketAddress) admin.listener().localAddress()).getPort();
                int servicePort = river.port("proxy");
                // The service has one event loop: hold it.
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                river.server().listeningChannels().get(0).eventLoop().execute(() -> {
                    held.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
                List<Socket> flood = new ArrayList<>();
                try {
                    for (int i = 0; i < 200; i++) {
                        Socket s = new Socket("127.0.0.1", servicePort);
                        s.getOutputStream().write("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        flood.add(s);
                    }
                    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                    for (String path : List.of("/health", "/ready", "/metrics", "/config")) {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
                    }
                } finally {
                    release.countDown();
                    for (Socket s : flood) {
                        s.close();
                    }
                }
                try (RawHttp raw = new RawHttp(servicePort)) {
                    raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                    assertThat(raw.read().status()).as("the service serves again once its loop is free").isEqualTo(200);
                }
            }
        }
    }

    @Test
    void theAdminBoundsItsConnectionsAndItsRequests() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()))) {
            AdminConfig config = new AdminConfig(true, new ListenAddress.Tcp("127.0.0.1", 0), Optional.empty(), true);
            try (AdminServer admin = AdminServer.start(config, river.server(), CompletableFuture::new, InheritedListeners.none())) {
                int port = ((InetSocketAddress) admin.listener().localAddress()).getPort();
                List<RawHttp> open = new ArrayList<>();
                try {
                    for (int i = 0; i < AdminServer.MAX_CONNECTIONS; i++) {
                        RawHttp raw = new RawHttp(port);
                        open.add(raw);
                        raw.send("GET /health HTTP/1.1\r\nHost: admin\r\n\r\n");
                        assertThat(raw.read().status()).isEqualTo(200);
                    }
                    try (RawHttp oneMore = new RawHttp(port)) {
                        oneMore.timeout(10_000);
                        assertThat(oneMore.socket().getInputStream().read()).as("closed at once").isEqualTo(-1);
                    }
                    // A request body over the bound is refused before it reaches an endpoint.
                    open.get(0).send("POST /reload HTTP/1.1\r\nHost: admin\r\nContent-Length: " + (AdminServer.MAX_REQUEST_BYTES + 1)
                            + "\r\n\r\n");
                    assertThat(open.get(0).read().status()).isEqualTo(413);
                } finally {
                    for (RawHttp raw : open) {
                        raw.close();
                    }
                }
            }
        }
    }
}
