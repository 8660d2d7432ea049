package river.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * A byte tunnel between a client connection and an upstream connection after a protocol switch
 * (WebSocket): every byte read on one side is written to the other, reading pauses while the other
 * side cannot take more, and the tunnel closes when either side closes or nothing moves for the idle
 * timeout.
 */
public final class Tunnel {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Tunnel.class);
    /** Failures on either side that closed a tunnel; read by tests. */
    static final java.util.concurrent.atomic.LongAdder FAILURES = new java.util.concurrent.atomic.LongAdder();

    private Tunnel() {}

    /** The handler that sends everything its channel reads to {@code peer}. */
    public static io.netty.channel.ChannelHandler relayTo(Channel peer) {
        return new Relay(peer);
    }

    /** One direction: what this channel reads goes to {@code peer}. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof io.netty.buffer.ByteBuf)) {
                // The end-of-message marker a codec emitted while it was being replaced.
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            peer.writeAndFlush(msg, peer.voidPromise());
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // This side drained: the peer may read again.
            if (ctx.channel().isWritable() && !peer.config().isAutoRead()) {
                peer.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
                peer.close();
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            FAILURES.increment();
            LOG.debug("tunnel side {} failed; closing both sides", ctx.channel(), cause);
            ctx.close();
            peer.close();
        }
    }

    /** An idle watch for one side of a tunnel: nothing read or written for the timeout closes it. */
    public static IdleStateHandler idleWatch(long idleMs) {
        return new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS);
    }
}
