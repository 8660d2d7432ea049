package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * One HTTP/2 client connection's part in a graceful stop: it counts the connection's open streams
 * (requests and WebSocket tunnels alike, for as long as their stream channel lives) so the drain can
 * wait for them, and sends GOAWAY when the drain begins so the client opens no new ones. Sits after
 * the multiplexer, so its GOAWAY goes through the frame codec, which fills in the last stream id the
 * connection took.
 */
final class Http2Drain extends ChannelInboundHandlerAdapter {
    /** Written on the connection's event loop only (streams share it); volatile for the shutdown thread. */
    private volatile int openStreams;
    private ChannelHandlerContext ctx;
    private boolean goAwaySent;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Counts a stream the client opened until its channel closes. Called on the event loop. */
    void streamOpened(Http2StreamChannel stream) {
        openStreams++;
        stream.closeFuture().addListener(f -> {
            openStreams--;
            closeIfDone();
        });
    }

    /** Whether a stream is still open (readable from any thread). */
    boolean busy() {
        return openStreams > 0;
    }

    /** Sends GOAWAY (NO_ERROR) once; the streams already taken go on. Callable from any thread. */
    void goAway() {
        ctx.executor().execute(() -> {
            if (!goAwaySent && ctx.channel().isActive()) {
                goAwaySent = true;
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR), ctx.voidPromise());
                closeIfDone();
            }
        });
    }

    /** After GOAWAY, the connection closes once its last stream has ended. On the event loop. */
    private void closeIfDone() {
        if (goAwaySent && openStreams == 0 && ctx.channel().isActive()) {
            ctx.channel().close();
        }
    }
}
