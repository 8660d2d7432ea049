package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** WebSocket through River: upgrade, then a byte tunnel both ways, with an idle timeout. */
class WebSocketTest {

    /** Collects what a WebSocket receives. */
    static final class Collector implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.write(b, 0, b.length);
            if (last) {
                received.add(bytes.toByteArray());
                bytes.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(status);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    @Test
    void webSocketEchoThroughRiver() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(2, "", origin.address()))) {
            Collector collector = new Collector();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + river.port("proxy") + "/ws"), collector).get(30, TimeUnit.SECONDS);
            ws.sendText("hello", true).get(30, TimeUnit.SECONDS);
            assertThat(collector.received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello");
            byte[] big = new byte[300_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = TestOrigin.pattern(i);
            }
            ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
            assertThat((byte[]) collector.received.poll(5, TimeUnit.SECONDS)).isEqualTo(big);
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(30, TimeUnit.SECONDS);
            assertThat(collector.closed.get(30, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
            // Ordinary requests still work on the same service afterwards.
            try (RawHttp raw = new RawHttp(river.port("proxy"))) {
                raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(raw.read().status()).isEqualTo(200);
            }
        }
    }

    @Test
    void idleTunnelIsClosed() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "    timeouts tunnel-idle-ms=300\n", origin.address()))) {
            Collector collector = new Collector();
            HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + river.port("proxy") + "/ws"), collector).get(30, TimeUnit.SECONDS);
            // The client sees the connection end abnormally (1006): River closes the tunnel, it sends no close frame.
            assertThat(collector.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1006);
        }
    }

    @Test
    void upgradeToSomethingElseIsNotPassedOn() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()));
                RawHttp raw = new RawHttp(river.port("proxy"))) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            assertThat(origin.lastSeen().headers().contains("upgrade")).isFalse();
        }
    }
}
