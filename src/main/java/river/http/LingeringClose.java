package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Ends a connection River has given up on so that its last words arrive. Closing a socket while the
 * peer's bytes sit unread in it makes the kernel send a reset, and a reset makes the peer's kernel
 * drop what it had not yet read, the GOAWAY among it. So: the GOAWAY is written, then the sending
 * side is shut (FIN), and what the peer still sends is read and thrown away, unprocessed, until it
 * closes its side, {@link #MAX_DISCARD} bytes have come, or {@link #LINGER_MS} has passed — the cost to
 * River is bounded either way. Sits before the HTTP/2 codec, so nothing discarded reaches it.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
    static final long LINGER_MS = 2_000;
    static final long MAX_DISCARD = 1 << 20;

    private ChannelHandlerContext ctx;
    private boolean lingering;
    private long discarded;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Call once the last frame is written (on the event loop): stops processing input, then closes. */
    void begin() {
        if (lingering) {
            return;
        }
        lingering = true;
        ctx.executor().schedule(() -> {
            ctx.close();
        }, LINGER_MS, TimeUnit.MILLISECONDS);
        if (ctx.channel() instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
        } else {
            ctx.close();
        }
        ctx.channel().config().setAutoRead(true);
    }

    boolean lingering() {
        return lingering;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!lingering) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof ByteBuf bytes) {
            discarded += bytes.readableBytes();
        }
        ReferenceCountUtil.release(msg);
        if (discarded > MAX_DISCARD) {
            ctx.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (lingering && evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
