package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
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
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * Trailers through a plugin over HTTP/2 (bodies.wat, "tr"): a Netty HTTP/2 client sends a request
 * body with trailers to River (h2c), River forwards it over HTTP/2 (TLS, h2 only) to an HTTP/2 origin
 * that echoes the request's trailers in its response's and adds one; the plugin reads the request
 * trailer (map 1) and adds one (proxy_on_request_trailers), and adds a response trailer (map 3,
 * proxy_on_response_trailers). The same over HTTP/2 downstream to a chunked HTTP/1.1 origin.
 */
class WasmHttp2TrailersTest {
    static Path dir;
    static TestOrigin h2Origin;
    static TestOrigin h1Origin;
    static RiverHarness river;
    static EventLoopGroup clients;

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm-h2");
        Path bodies = Wat.compile("bodies", dir);
        TestPki.Pair certificate = TestPki.server("origin.test");
        h2Origin = TestOrigin.http2(certificate.cert().toFile(), certificate.key().toFile(), 100);
        h1Origin = new TestOrigin();
        clients = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        String tls = "tls-sni=\"origin.test\" ca-path=\"" + TestPki.caCertificate() + "\" proto=\"h2-only\"";
        river = RiverHarness.start("services {\n" + service("h2", h2Origin.address() + "\" " + tls, bodies)
                + service("h1", h1Origin.address() + "\"", bodies) + "}\n", dir);
    }

    private static String service(String name, String connector, Path bodies) {
        return "  " + name + " {\n    listeners {\n      \"127.0.0.1:0\" h2c=true\n    }\n    connectors {\n      \"" + connector
                + "\n    }\n    plugins {\n      wasm \"" + name + "\" path=\"" + bodies + "\" config=\"tr\"\n    }\n  }\n";
    }

    @AfterAll
    static void stop() throws Exception {
        if (clients != null) {
            clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        Wat.closeAll(river, h2Origin, h1Origin);
    }

    @Test
    void aPluginReadsRequestTrailersAndAddsResponseTrailersOverHttp2ToAnHttp2Origin() throws Exception {
        Exchange e = post("h2");
        assertThat(e.head().status().toString()).isEqualTo("200");
        assertThat(e.body()).isEqualTo("with trailers\n");
        assertThat(e.trailers()).as("the response's trailers, an HTTP/2 HEADERS frame ending the stream").isNotNull();
        // The origin echoes the request's trailers: the plugin's proxy_on_request_trailers read x-checksum and added x-wasm-saw.
        assertThat(e.trailers().get("x-checksum")).hasToString("c0ffee");
        assertThat(e.trailers().get("x-wasm-saw")).hasToString("c0ffee");
        assertThat(e.trailers().get("x-origin-trailer")).hasToString("yes");
        assertThat(e.trailers().get("x-wasm-trailer")).as("added by proxy_on_response_trailers").hasToString("added");
        assertThat(h2Origin.http2ConnectionsAccepted()).as("the origin was spoken to over HTTP/2").isPositive();
        assertThat(h2Origin.lastSeen().bodySha256()).isEqualTo(TestOrigin.sha256("body".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aPluginReadsRequestTrailersAndAddsResponseTrailersOverHttp2ToAChunkedHttp1Origin() throws Exception {
        Exchange e = post("h1");
        assertThat(e.head().status().toString()).isEqualTo("200");
        assertThat(e.body()).isEqualTo("with trailers\n");
        assertThat(e.trailers()).isNotNull();
        assertThat(e.trailers().get("x-wasm-saw")).hasToString("c0ffee");
        assertThat(e.trailers().get("x-origin-trailer")).hasToString("yes");
        assertThat(e.trailers().get("x-wasm-trailer")).hasToString("added");
    }

    /** What one HTTP/2 exchange got: the response head, its body, its trailers (null when none). */
    record Exchange(Http2Headers head, String body, Http2Headers trailers) {}

    /** POST /trailers with body "body" and the trailer x-checksum: c0ffee, over a new h2c connection to {@code service}. */
    private static Exchange post(String service) throws Exception {
        CompletableFuture<Exchange> done = new CompletableFuture<>();
        Channel connection = new Bootstrap().group(clients).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ignored) {}
                        }));
                    }
                })
                .connect("127.0.0.1", river.port(service)).sync().channel();
        try {
            List<Http2Headers> blocks = new ArrayList<>();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
                    boolean end = false;
                    if (frame instanceof Http2HeadersFrame headers) {
                        blocks.add(headers.headers());
                        end = headers.isEndStream();
                    } else if (frame instanceof Http2DataFrame data) {
                        byte[] bytes = new byte[data.content().readableBytes()];
                        data.content().readBytes(bytes);
                        body.writeBytes(bytes);
                        end = data.isEndStream();
                    }
                    if (end) {
                        done.complete(new Exchange(blocks.get(0), body.toString(StandardCharsets.US_ASCII), blocks.size() > 1 ? blocks.get(1) : null));
                    }
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    done.completeExceptionally(new AssertionError("the stream closed before its end; got " + blocks + " " + body));
                }
            }).open().sync().getNow();
            Http2Headers head = new DefaultHttp2Headers().method("POST").scheme("http").path("/trailers").authority("x").set("te", "trailers");
            stream.write(new DefaultHttp2HeadersFrame(head, false));
            stream.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII), false));
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("x-checksum", "c0ffee"), true));
            return done.get(30, TimeUnit.SECONDS); // only stops a hung test
        } finally {
            connection.close().sync();
        }
    }
}
