package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * A graceful stop drains HTTP/2 as it drains HTTP/1.x: the client is sent GOAWAY naming the last
 * stream River took, the listener stops accepting, the stream in flight (held at the origin until the
 * test lets it go) completes in full, and only then does River close the connection. Over h2c with
 * prior knowledge and over TLS with ALPN, with Netty's HTTP/2 client codec.
 */
class Http2GracefulShutdownTest {
    private static final int BODY_BYTES = 300_000;

    @TempDir
    static Path dir;
    static EventLoopGroup clients = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    TestOrigin origin;
    RiverHarness river;

    @BeforeAll
    static void certificates() throws Exception {
        Path compat = Path.of(Http2GracefulShutdownTest.class.getResource("/compat/assets").toURI());
        Files.copy(compat.resolve("test.crt"), dir.resolve("test.crt"));
        Files.copy(compat.resolve("test.key"), dir.resolve("test.key"));
    }

    @AfterEach
    void stop() {
        if (river != null) {
            river.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @AfterAll
    static void stopClients() {
        clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private void startRiver(boolean tls) throws Exception {
        origin = new TestOrigin();
        String listener = tls ? "\"127.0.0.1:0\" cert-path=\"test.crt\" key-path=\"test.key\"" : "\"127.0.0.1:0\" h2c=true";
        river = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address()).replace("\"127.0.0.1:0\"", listener), dir);
    }

    /** The connection-level frames and the end of one client connection. */
    record Connection(Channel channel, LinkedBlockingQueue<GoAway> goAways) {}

    /** What a GOAWAY frame said (the frame's own duplicate drops the last stream id). */
    record GoAway(long errorCode, int lastStreamId) {}

    /** An HTTP/2 client connection to River: prior knowledge, or TLS offering only h2 through ALPN. */
    private Connection connect(boolean tls) throws Exception {
        SslContext ssl = tls ? SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2"))
                .build() : null;
        LinkedBlockingQueue<GoAway> goAways = new LinkedBlockingQueue<>();
        Channel channel = new Bootstrap().group(clients).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), "127.0.0.1", river.port("proxy")));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {}
                                }),
                                new SimpleChannelInboundHandler<Http2GoAwayFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Http2GoAwayFrame frame) {
                                        goAways.add(new GoAway(frame.errorCode(), frame.lastStreamId()));
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", river.port("proxy")).sync().channel();
        return new Connection(channel, goAways);
    }

    /** Opens a stream whose frames (headers, then DATA payloads as byte arrays) land in {@code frames}. */
    private static Http2StreamChannel openStream(Channel connection, LinkedBlockingQueue<Object> frames) throws InterruptedException {
        return new Http2StreamChannelBootstrap(connection).handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
                if (frame instanceof Http2HeadersFrame headers) {
                    frames.add(headers.headers());
                } else if (frame instanceof Http2DataFrame data) {
                    byte[] bytes = new byte[data.content().readableBytes()];
                    data.content().readBytes(bytes);
                    frames.add(bytes);
                    if (data.isEndStream()) {
                        frames.add("end");
                    }
                }
            }
        }).open().sync().getNow();
    }

    /** Starts the graceful stop on its own thread, as the SIGTERM handler does. */
    private CompletableFuture<Void> gracefulStop() {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            river.server().shutdownGracefully(Duration.ofSeconds(30));
            stopped.complete(null);
        }, "test-graceful-stop");
        t.setDaemon(true);
        t.start();
        return stopped;
    }

    /**
     * The GOAWAYs River sent, as RFC 9113 §6.8 advises: first NO_ERROR naming 2^31-1 (open no more
     * streams), then, after a PING's round trip, NO_ERROR naming the last stream it took.
     */
    private static void assertGoAwayNames(Connection c, int lastStreamId) throws InterruptedException {
        assertThat(c.goAways().poll(30, TimeUnit.SECONDS)).as("first GOAWAY").isEqualTo(new GoAway(Http2Error.NO_ERROR.code(), Integer.MAX_VALUE));
        assertThat(c.goAways().poll(30, TimeUnit.SECONDS)).as("final GOAWAY").isEqualTo(new GoAway(Http2Error.NO_ERROR.code(), lastStreamId));
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void gracefulStopSendsGoAwayAndLetsTheStreamInFlightFinish(boolean tls) throws Exception {
        startRiver(tls);
        int port = river.port("proxy");
        Connection c = connect(tls);
        LinkedBlockingQueue<Object> frames = new LinkedBlockingQueue<>();
        Http2StreamChannel stream = openStream(c.channel(), frames);
        Http2Headers get = new DefaultHttp2Headers().method("GET").scheme(tls ? "https" : "http")
                .path("/held?n=" + BODY_BYTES).authority("app.example");
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(get, true)).sync();
        Eventually.await(() -> origin.heldRequests() == 1, 30_000);

        CompletableFuture<Void> stopped = gracefulStop();
        assertGoAwayNames(c, stream.stream().id());
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(river.server().busyConnections()).as("the HTTP/2 connection is waited for").isEqualTo(1);
        assertThat(stopped).isNotDone();
        assertThat(c.channel().isActive()).isTrue();

        origin.releaseHeld();
        Object head = frames.poll(30, TimeUnit.SECONDS);
        assertThat(head).isInstanceOf(Http2Headers.class);
        assertThat(((Http2Headers) head).status().toString()).isEqualTo("200");
        long received = 0;
        Object next;
        while (!"end".equals(next = frames.poll(30, TimeUnit.SECONDS))) {
            assertThat(next).as("DATA after %d bytes", received).isInstanceOf(byte[].class);
            byte[] bytes = (byte[]) next;
            for (int i = 0; i < bytes.length; i++) {
                assertThat(bytes[i]).isEqualTo(TestOrigin.pattern(received + i));
            }
            received += bytes.length;
        }
        assertThat(received).isEqualTo(BODY_BYTES);

        stopped.get(10, TimeUnit.SECONDS);
        assertThat(c.channel().closeFuture().await(30, TimeUnit.SECONDS)).as("River closed the connection").isTrue();
    }

    @Test
    void gracefulStopWaitsForAWebSocketTunnelOverHttp2() throws Exception {
        startRiver(false);
        Connection c = connect(false);
        LinkedBlockingQueue<Object> frames = new LinkedBlockingQueue<>();
        Http2StreamChannel stream = openStream(c.channel(), frames);
        Http2Headers connect = new DefaultHttp2Headers().method("CONNECT").scheme("http").path("/ws").authority("app.example")
                .set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket")
                .set("sec-websocket-version", "13");
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(connect, false)).sync();
        Object head = frames.poll(30, TimeUnit.SECONDS);
        assertThat(head).isInstanceOf(Http2Headers.class);
        assertThat(((Http2Headers) head).status().toString()).isEqualTo("200");

        CompletableFuture<Void> stopped = gracefulStop();
        assertGoAwayNames(c, stream.stream().id());
        assertThat(river.server().busyConnections()).as("the tunnel is waited for").isEqualTo(1);

        // The tunnel still carries frames both ways while River drains.
        ByteBuf text = Http2WebSocketTest.clientTextFrame("still open");
        stream.writeAndFlush(new DefaultHttp2DataFrame(text, false)).sync();
        byte[] expected = "echo: still open".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream echoed = new java.io.ByteArrayOutputStream();
        while (echoed.size() < 2 + expected.length) {
            Object next = frames.poll(30, TimeUnit.SECONDS);
            assertThat(next).as("an answer in a DATA frame").isInstanceOf(byte[].class);
            echoed.write((byte[]) next);
        }
        assertThat(new String(echoed.toByteArray(), 2, expected.length, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("echo: still open");
        assertThat(stopped).isNotDone();

        // The client ends the tunnel: nothing is left in flight, so River stops.
        stream.writeAndFlush(new DefaultHttp2DataFrame(true)).sync();
        stopped.get(10, TimeUnit.SECONDS);
        assertThat(c.channel().closeFuture().await(30, TimeUnit.SECONDS)).as("River closed the connection").isTrue();
    }
}
