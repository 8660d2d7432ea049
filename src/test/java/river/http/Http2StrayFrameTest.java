package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import river.testsupport.TrackingAllocator;

/**
 * What a stream's channel holds is released. Frames of an unknown type (RFC 9113 §5.5: ignored and discarded) never reach a stream's channel:
 * they are not flow-controlled, so one queued for a stream that is not reading would be held, unbounded,
 * until the stream ends, and one for a stream Netty's multiplexer holds no channel for is never released.
 * The latter is the fuzzer's {@code unknown-frame-on-stream-buffer-leak}. And a stream that is not
 * reading is closed with its connection, not left open holding what it queued
 * ({@code websocket-data-queued-when-connection-closes}).
 */
class Http2StrayFrameTest {
    /** HPACK: {@code :scheme https} and {@code content-length} with an empty value, both from the static table. */
    private static final byte[] EMPTY_CONTENT_LENGTH = {(byte) 0x87, (byte) 0x9c};
    private static final int END_HEADERS = 0x4;
    private static final int END_STREAM = 0x1;

    private final TrackingAllocator alloc = new TrackingAllocator();
    private EmbeddedChannel channel;

    /** A connection as River accepts it, or (as the fuzz target once had it) one without a listening parent. */
    private void connect(boolean accepted) {
        channel = accepted ? EmbeddedChannel.builder().parent(new LocalServerChannel()).build() : new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        Http2Pipeline.install(channel.pipeline(), new AnsweringEngine().engine, Http1Fuzzing.SETTINGS, false);
        ByteBuf preface = alloc.buffer().writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        feed(frame(preface, 0x4, 0, 0, new byte[0]));
    }

    @AfterEach
    void release() {
        channel.finishAndReleaseAll();
    }

    @Test
    void anUnknownFrameOnAStreamWithoutAChannelIsReleased() {
        // Without a listening parent, Netty's Http2MultiplexHandler takes stream 1 for a client's upgrade
        // stream and opens no channel for it; the refused head leaves the stream open in the codec.
        connect(false);
        feed(frame(alloc.buffer(), 0x1, END_HEADERS | END_STREAM, 1, EMPTY_CONTENT_LENGTH));
        feed(frame(alloc.buffer(), 0xfd, 0, 1, new byte[26]));

        channel.finishAndReleaseAll();
        alloc.assertAllReleased();
    }

    @Test
    void unknownFramesForAStreamThatIsNotReadingAreNotHeld() throws Exception {
        connect(true);
        // A WebSocket stream reads nothing until the upstream agrees (here it never does), and the client's side stays open.
        feed(frame(alloc.buffer(), 0x1, END_HEADERS, 3, hpack(webSocket())));
        long held = alloc.liveBytes();
        for (int i = 0; i < 100; i++) {
            feed(frame(alloc.buffer(), 0xfd, 0, 3, new byte[64]));
        }

        assertThat(alloc.liveBytes()).as("bytes held for the connection").isEqualTo(held);
        assertThat(channel.pipeline().get(Http2FrameCodec.class).connection().stream(3).state().remoteSideOpen())
                .as("the client may still send on the WebSocket stream").isTrue();
    }

    @Test
    void dataQueuedForAStreamThatIsNotReadingIsReleasedWhenTheConnectionCloses() throws Exception {
        connect(true);
        feed(frame(alloc.buffer(), 0x1, END_HEADERS, 3, hpack(webSocket())));
        feed(frame(alloc.buffer(), 0x0, 0, 3, new byte[16]));

        channel.finishAndReleaseAll(); // the connection closes, the GOAWAY River wrote is released
        alloc.assertAllReleased();
    }

    private static Http2Headers webSocket() {
        Http2Headers connect = new DefaultHttp2Headers().method("CONNECT").scheme("http").path("/chat")
                .authority("example.test");
        connect.add(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket");
        return connect;
    }

    private static byte[] hpack(Http2Headers headers) throws Exception {
        ByteBuf block = Unpooled.buffer();
        new DefaultHttp2HeadersEncoder().encodeHeaders(3, headers, block);
        byte[] bytes = new byte[block.readableBytes()];
        block.readBytes(bytes).release();
        return bytes;
    }

    private void feed(ByteBuf bytes) {
        channel.writeInbound(bytes);
        channel.runPendingTasks();
        for (Object out; (out = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(out);
        }
    }

    private static ByteBuf frame(ByteBuf out, int type, int flags, int stream, byte[] payload) {
        return out.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    }
}
