package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * WebSocket over HTTP/2 (RFC 8441) through River to an HTTP/1.1 WebSocket origin, driven by Netty's
 * HTTP/2 client: extended CONNECT, then WebSocket frames in DATA frames both ways.
 */
class Http2WebSocketTest {
    static TestOrigin origin;
    static RiverHarness river;
    static EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        river = RiverHarness.start("""
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address()));
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /**
     * An HTTP/2 connection with prior knowledge to River, through Netty's client codec and
     * multiplexer; {@code connectionFrames} (if any) sees the connection-level frames.
     */
    static Channel connectHttp2(io.netty.channel.ChannelHandler connectionFrames) throws InterruptedException {
        return new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {}
                        }));
                        if (connectionFrames != null) {
                            ch.pipeline().addLast(connectionFrames);
                        }
                    }
                })
                .connect("127.0.0.1", river.port("proxy")).sync().channel();
    }

    /** A masked client text frame (RFC 6455 §5.2), small enough for a 7-bit length. */
    static ByteBuf clientTextFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        ByteBuf frame = Unpooled.buffer();
        frame.writeByte(0x81).writeByte(0x80 | payload.length).writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.writeByte(payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    @Test
    void extendedConnectTunnelsWebSocketFramesToAnHttp11Origin() throws Exception {
        LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        Channel connection = connectHttp2(null);
        try {
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
                    if (frame instanceof Http2HeadersFrame headers) {
                        received.add(headers.headers());
                    } else if (frame instanceof Http2DataFrame data) {
                        byte[] bytes = new byte[data.content().readableBytes()];
                        data.content().readBytes(bytes);
                        received.add(bytes);
                    }
                }
            }).open().sync().getNow();
            Http2Headers connect = new DefaultHttp2Headers()
                    .method("CONNECT").scheme("http").path("/ws").authority("app.example")
                    .set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket")
                    .set("sec-websocket-version", "13");
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(connect, false)).sync();
            Object first = received.poll(10, TimeUnit.SECONDS);
            assertThat(first).isInstanceOf(Http2Headers.class);
            Http2Headers response = (Http2Headers) first;
            assertThat(response.status().toString()).isEqualTo("200");
            assertThat(response.contains("sec-websocket-accept")).isFalse();
            assertThat(response.contains("upgrade")).isFalse();

            for (String text : new String[] {"hello", "over h2"}) {
                stream.writeAndFlush(new DefaultHttp2DataFrame(clientTextFrame(text), false)).sync();
                StringBuilder got = new StringBuilder();
                byte[] expectedPayload = ("echo: " + text).getBytes(StandardCharsets.UTF_8);
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                while (bytes.size() < 2 + expectedPayload.length) {
                    Object next = received.poll(10, TimeUnit.SECONDS);
                    assertThat(next).as("an answer in a DATA frame").isInstanceOf(byte[].class);
                    bytes.write((byte[]) next);
                }
                byte[] frame = bytes.toByteArray();
                assertThat(frame[0] & 0xff).as("FIN + text").isEqualTo(0x81);
                assertThat(frame[1] & 0xff).as("unmasked, length").isEqualTo(expectedPayload.length);
                got.append(new String(frame, 2, frame.length - 2, StandardCharsets.UTF_8));
                assertThat(got.toString()).isEqualTo("echo: " + text);
            }
            // The origin's answers ("echo: …") prove it spoke WebSocket over HTTP/1.1 with River.
        } finally {
            connection.close().sync();
        }
    }

    @Test
    void riverAnnouncesExtendedConnect() throws Exception {
        LinkedBlockingQueue<Object> settings = new LinkedBlockingQueue<>();
        Channel connection = connectHttp2(new SimpleChannelInboundHandler<io.netty.handler.codec.http2.Http2SettingsFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, io.netty.handler.codec.http2.Http2SettingsFrame frame) {
                settings.add(frame.settings());
            }
        });
        try {
            io.netty.handler.codec.http2.Http2Settings s = (io.netty.handler.codec.http2.Http2Settings) settings.poll(10, TimeUnit.SECONDS);
            assertThat(s.connectProtocolEnabled()).isTrue();
        } finally {
            connection.close().sync();
        }
    }
}
