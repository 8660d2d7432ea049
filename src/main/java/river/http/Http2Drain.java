package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Exception;

/**
 * One HTTP/2 client connection's part in a graceful stop: it counts the connection's open streams
 * (requests and WebSocket tunnels alike, until the codec closes them) so the drain can
 * wait for them, and sends GOAWAY when the drain begins so the client opens no new ones. Sits after
 * the streams, so its GOAWAY goes through the frame codec, which fills in the last stream id the
 * connection took. Being the connection's last handler, it also ends every error the handlers before
 * it pass on, so none reaches the pipeline's end (where Netty logs a warning per connection).
 */
final class Http2Drain extends ChannelInboundHandlerAdapter {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Http2Drain.class);
    /** Written on the connection's event loop only (streams share it); volatile for the shutdown thread. */
    private volatile int openStreams;
    private ChannelHandlerContext ctx;
    /** The PING payload of a graceful stop's round trip ("RIVERBYE"). */
    private static final long DRAIN_PING = 0x5249564552425945L;
    private boolean goAwaySent;
    private boolean finalGoAwaySent;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The frame codec passes on each connection error after answering it (GOAWAY, then close): a client's
     * protocol error is the client's, not River's, and must not log a warning per connection. Anything
     * else (a reset socket, a handler's failure) closes the connection.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
        if (!(cause instanceof Http2Exception)) {
            ctx.close();
        }
    }

    /** Counts a stream ({@link Http2Streams}) until {@link #streamClosed()}. On the event loop. */
    void streamOpened() {
        openStreams++;
    }

    void streamClosed() {
        openStreams--;
        closeIfDone();
    }

    /** Whether a stream is still open (readable from any thread). */
    boolean busy() {
        return openStreams > 0;
    }

    /**
     * Starts a graceful GOAWAY once, in two steps as RFC 9113 §6.8 advises: a first GOAWAY naming stream
     * 2^31-1 tells the client to open no more streams without refusing those already on their way, and a
     * PING measures one round trip; when its ACK comes back, every stream the client opened before it
     * read the first GOAWAY has arrived, and the final GOAWAY names the last one taken. The streams taken
     * go on; the connection closes after the last. Callable from any thread.
     */
    void goAway() {
        ctx.executor().execute(() -> {
            if (!goAwaySent && ctx.channel().isActive()) {
                goAwaySent = true;
                ctx.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE), ctx.voidPromise());
                ctx.writeAndFlush(new DefaultHttp2PingFrame(DRAIN_PING), ctx.voidPromise());
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2PingFrame ping && ping.ack() && ping.content() == DRAIN_PING && goAwaySent && !finalGoAwaySent) {
            finalGoAwaySent = true;
            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR), ctx.voidPromise());
            closeIfDone();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** After GOAWAY, the connection closes once its last stream has ended. On the event loop. */
    private void closeIfDone() {
        if (finalGoAwaySent && openStreams == 0 && ctx.channel().isActive()) {
            ctx.channel().close();
        }
    }
}
