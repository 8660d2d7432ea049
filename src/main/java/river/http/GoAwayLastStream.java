package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2ConnectionHandler;

/**
 * Makes every GOAWAY River sends name the last stream it took (RFC 9113 §6.8). Netty's codec names
 * stream 2^31-1 on a hard connection error (a frame it cannot parse, a flood limit), to be safe while
 * a header block is half-decoded; but a stream whose head failed was never taken, so the last stream
 * the connection created is the truthful answer, and a client can retry what came after it.
 *
 * <p>Sits just before the codec on the way out. The frame logger ({@link Http2AbuseGuard}) is told
 * of each GOAWAY just before the codec's frame writer writes it, as one buffer of frame header, last
 * stream id and error code; that buffer is the next one to pass here, and its id is rewritten in place.
 */
final class GoAwayLastStream extends ChannelOutboundHandlerAdapter {
    private static final int GOAWAY = 0x7;
    private static final int LAST_STREAM_OFFSET = 9;

    private Http2ConnectionHandler codec;
    private boolean expected;

    void watch(Http2ConnectionHandler codec) {
        this.codec = codec;
    }

    /**
     * The codec is about to write a GOAWAY naming {@code lastStreamId}. A graceful stop's first GOAWAY
     * (NO_ERROR, 2^31-1: "stop opening streams", RFC 9113 §6.8) is meant as it is and left alone.
     */
    void goAwayComing(int lastStreamId, long errorCode) {
        expected = lastStreamId == Integer.MAX_VALUE && errorCode != io.netty.handler.codec.http2.Http2Error.NO_ERROR.code();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (expected && msg instanceof ByteBuf frame) {
            expected = false;
            int at = frame.readerIndex();
            if (frame.readableBytes() >= LAST_STREAM_OFFSET + 8 && frame.getByte(at + 3) == GOAWAY
                    && frame.getInt(at + LAST_STREAM_OFFSET) == Integer.MAX_VALUE) {
                frame.setInt(at + LAST_STREAM_OFFSET, codec.connection().remote().lastStreamCreated());
            }
        }
        ctx.write(msg, promise);
    }
}
