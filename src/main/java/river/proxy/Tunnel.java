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
        return new Relay(new ChannelEnd(peer));
    }

    /** The handler that sends everything its channel reads to a client end that is not a channel of its own. */
    public static io.netty.channel.ChannelHandler relayTo(ClientEnd peer) {
        return new Relay(peer);
    }

    /**
     * The client's end of a tunnel when it is not a channel of its own: an HTTP/2 stream (RFC 8441),
     * whose bytes travel in DATA frames. Its reads go to the upstream channel; it reads again when
     * the upstream channel drains ({@link #setReading}).
     */
    public interface ClientEnd {
        /** Sends bytes to the client. */
        void write(io.netty.buffer.ByteBuf bytes);

        boolean isWritable();

        boolean isReading();

        void setReading(boolean reading);

        /** The other side is gone: ends this side once what was written has gone. */
        void end();

        /** Ends this side at once (idle, failure). */
        void close();
    }

    /** How the upstream joins the client: to the client's own channel, or to a client end that is not one. */
    public interface Join {
        /** Makes the upstream connection the tunnel's other end and returns its channel (on the same loop). */
        Channel toChannel(Channel client);

        /** As {@link #toChannel}, for a client end that is not a channel of its own. */
        Channel toEnd(ClientEnd client);
    }

    /** A client's own channel as a tunnel end. */
    private record ChannelEnd(Channel channel) implements ClientEnd {
        @Override
        public void write(io.netty.buffer.ByteBuf bytes) {
            channel.writeAndFlush(bytes, channel.voidPromise());
        }

        @Override
        public boolean isWritable() {
            return channel.isWritable();
        }

        @Override
        public boolean isReading() {
            return channel.config().isAutoRead();
        }

        @Override
        public void setReading(boolean reading) {
            channel.config().setAutoRead(reading);
        }

        @Override
        public void end() {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void close() {
            channel.close();
        }
    }

    /** One direction: what this channel reads goes to {@code peer}. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final ClientEnd peer;

        Relay(ClientEnd peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof io.netty.buffer.ByteBuf)) {
                // The end-of-message marker a codec emitted while it was being replaced.
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            peer.write((io.netty.buffer.ByteBuf) msg);
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // This side drained: the peer may read again.
            if (ctx.channel().isWritable() && !peer.isReading()) {
                peer.setReading(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.end();
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
