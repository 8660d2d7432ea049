package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 connection timeouts on Netty's embedded channel, whose clock the test moves: a connection
 * that never asks, one that goes idle, and a header block sent too slowly are each closed with GOAWAY
 * at their deadline and not a moment before, and bytes alone never keep a connection alive.
 */
class Http2ConnectionTimeoutsTest {
    private static final long FIRST_MS = 2_000;
    private static final long IDLE_MS = 5_000;
    private static final long HEADER_MS = 1_000;

    private EmbeddedChannel channel;

    private EmbeddedChannel connection(long firstMs, long idleMs, long headerMs) {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        Http2ConnectionTimeouts timeouts = new Http2ConnectionTimeouts(firstMs, idleMs, headerMs);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer().build();
        timeouts.watch(codec);
        channel.pipeline().addLast(timeouts, codec);
        return channel;
    }

    @AfterEach
    void release() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private void advance(long ms) {
        channel.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    private static ByteBuf preface() {
        ByteBuf b = Unpooled.buffer();
        b.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        frame(b, 0x4, 0, 0, Unpooled.EMPTY_BUFFER); // empty SETTINGS
        return b;
    }

    private static void frame(ByteBuf out, int type, int flags, int stream, ByteBuf payload) {
        out.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
        payload.release();
    }

    private static ByteBuf headersFrame(int stream, boolean endStream) throws Exception {
        ByteBuf block = Unpooled.buffer();
        new DefaultHttp2HeadersEncoder().encodeHeaders(stream, new DefaultHttp2Headers().method("GET").scheme("http")
                .authority("localhost").path("/"), block);
        ByteBuf out = Unpooled.buffer();
        frame(out, 0x1, 0x4 | (endStream ? 0x1 : 0), stream, block);
        return out;
    }

    /** The error code of the GOAWAY River wrote, or -1 if it wrote none. */
    private long goAwayError() {
        return goAway(false);
    }

    /** The error code, or with {@code lastStream} the last-stream-id, of the GOAWAY written; -1 if none. */
    private long goAway(boolean lastStream) {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            if (o instanceof ByteBuf b) {
                all.writeBytes(b);
            }
            ReferenceCountUtil.release(o);
        }
        try {
            while (all.readableBytes() >= 9) {
                int length = all.readUnsignedMedium();
                int type = all.readByte();
                all.skipBytes(5);
                if (type == 0x7) {
                    long last = all.readUnsignedInt();
                    long error = all.readUnsignedInt();
                    return lastStream ? last : error;
                }
                all.skipBytes(length);
            }
            return -1;
        } finally {
            all.release();
        }
    }

    @Test
    void aConnectionThatNeverSendsARequestIsClosedAtTheFirstRequestDeadline() {
        connection(FIRST_MS, IDLE_MS, HEADER_MS).writeInbound(preface());
        advance(FIRST_MS - 1);
        assertThat(channel.isOpen()).isTrue();
        advance(1);
        assertThat(channel.isOpen()).isFalse();
        assertThat(goAwayError()).isEqualTo(Http2Error.NO_ERROR.code());
    }

    @Test
    void aPrefaceSentAByteAtATimeDoesNotExtendTheDeadline() {
        connection(FIRST_MS, IDLE_MS, HEADER_MS);
        ByteBuf preface = preface();
        for (int i = 0; i < 20 && preface.isReadable(); i++) {
            channel.writeInbound(preface.readRetainedSlice(1));
            advance(FIRST_MS / 20 - 1);
        }
        assertThat(channel.isOpen()).isTrue();
        advance(25);
        assertThat(channel.isOpen()).isFalse();
        preface.release();
    }

    @Test
    void aHeaderBlockSentTooSlowlyIsCutOffWithEnhanceYourCalm() throws Exception {
        connection(60_000, IDLE_MS, HEADER_MS).writeInbound(preface());
        ByteBuf headers = headersFrame(1, true);
        channel.writeInbound(headers.readRetainedSlice(10)); // the frame header and a byte of the block
        advance(HEADER_MS / 2);
        channel.writeInbound(headers.readRetainedSlice(3));
        advance(HEADER_MS / 2 - 1);
        assertThat(channel.isOpen()).isTrue();
        advance(1);
        assertThat(channel.isOpen()).isFalse();
        assertThat(goAwayError()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
        headers.release();
    }

    @Test
    void anOpenStreamKeepsTheConnectionAndItsEndStartsTheIdleClock() throws Exception {
        connection(FIRST_MS, IDLE_MS, HEADER_MS).writeInbound(preface());
        channel.writeInbound(headersFrame(1, false)); // a request whose body is still to come
        advance(IDLE_MS * 3);
        assertThat(channel.isOpen()).as("a stream is open").isTrue();
        ByteBuf rst = Unpooled.buffer();
        frame(rst, 0x3, 0, 1, Unpooled.buffer().writeInt((int) Http2Error.CANCEL.code()));
        channel.writeInbound(rst);
        advance(IDLE_MS - 1);
        assertThat(channel.isOpen()).isTrue();
        advance(1);
        assertThat(channel.isOpen()).isFalse();
        assertThat(goAwayError()).isEqualTo(Http2Error.NO_ERROR.code());
    }

    @Test
    void aHardConnectionErrorsGoAwayNamesTheLastStreamTakenNotTheLargestId() throws Exception {
        channel = new EmbeddedChannel();
        GoAwayLastStream lastStream = new GoAwayLastStream();
        Http2AbuseGuard guard = new Http2AbuseGuard(Http2AbuseGuard.Budgets.defaults(), channel.eventLoop().ticker());
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer().frameLogger(guard).build();
        lastStream.watch(codec);
        guard.watch(codec, lastStream, new LingeringClose());
        channel.pipeline().addLast(lastStream, codec);
        channel.writeInbound(preface());
        channel.writeInbound(headersFrame(1, false), headersFrame(3, false));
        ByteBuf badSettings = Unpooled.buffer();
        frame(badSettings, 0x4, 0, 0, Unpooled.buffer().writeZero(5)); // not a multiple of 6: FRAME_SIZE_ERROR
        // The codec answers the error, then passes it on down the pipeline, where the embedded channel rethrows it.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> channel.writeInbound(badSettings))
                .isInstanceOf(io.netty.handler.codec.http2.Http2Exception.class);
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertThat(goAway(true)).isEqualTo(3);
    }
}
