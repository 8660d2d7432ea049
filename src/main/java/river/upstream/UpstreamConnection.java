package river.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;

/**
 * A connection to one peer, owned by the pool while idle and by one exchange while in use. Events are
 * forwarded to the current {@link UpstreamListener}; while idle, any event means the connection can
 * no longer be used and it is dropped from the pool.
 */
public final class UpstreamConnection {
    private final Channel channel;
    private final Peer peer;
    private final Home home;
    private volatile UpstreamListener listener;
    private volatile boolean broken;
    /** The peer reset this stream with REFUSED_STREAM: it did not process the request. */
    private volatile boolean refusedByPeer;
    /** When the connection was parked in the pool (System.nanoTime). */
    private volatile long idleSince;
    private volatile int uses;
    /** What the pool files this connection under while idle (the peer's label, or label and client). */
    String poolKey;

    /** Where a connection goes when its exchange is done with it. */
    interface Home {
        /** Takes back a connection whose exchange ended cleanly. */
        void release(UpstreamConnection connection);

        /** Drops a connection that can no longer be used. */
        void forget(UpstreamConnection connection);
    }

    UpstreamConnection(Channel channel, Peer peer, Home home) {
        this.channel = channel;
        this.peer = peer;
        this.home = home;
        this.poolKey = peer.label();
    }

    /** A stream of a shared HTTP/2 connection, rather than a connection of its own. */
    UpstreamConnection(Channel stream, Peer peer, Home home, boolean sessionServedBefore) {
        this(stream, peer, home);
        this.uses = sessionServedBefore ? 1 : 0;
    }

    /** Whether this is an HTTP/2 stream (the request and response are HTTP/2 messages on the wire). */
    public boolean isHttp2() {
        return channel instanceof io.netty.handler.codec.http2.Http2StreamChannel;
    }

    public Channel channel() {
        return channel;
    }

    public Peer peer() {
        return peer;
    }

    /**
     * Whether the peer refused the request unprocessed (HTTP/2 REFUSED_STREAM, RFC 9113 §8.7), so
     * that it may be sent again whatever it was.
     */
    public boolean refusedByPeer() {
        return refusedByPeer;
    }

    /** True when this connection served an earlier request before this one. */
    public boolean reused() {
        return uses > 1;
    }

    boolean usable() {
        return !broken && channel.isActive();
    }

    void markBroken() {
        broken = true;
    }

    void attach(UpstreamListener newListener) {
        uses++;
        listener = newListener;
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    void detach(long now) {
        listener = null;
        idleSince = now;
    }

    boolean idleLongerThan(long nanos, long now) {
        return now - idleSince > nanos;
    }

    /** Returns the connection to the pool for reuse; only call when the exchange ended cleanly. */
    public void release() {
        home.release(this);
    }

    /**
     * Takes the connection out of HTTP for a protocol switch: installs {@code relay} where the HTTP
     * codec was (bytes the codec had buffered go to it) and forgets the pool. The caller owns the
     * channel from now on.
     */
    public Channel takeOverAsTunnel(io.netty.channel.ChannelHandler relay, io.netty.channel.ChannelHandler idleWatch) {
        broken = true;
        listener = null;
        var pipeline = channel.pipeline();
        pipeline.addAfter("http", "tunnel-idle", idleWatch);
        pipeline.addAfter("tunnel-idle", "tunnel", relay);
        pipeline.remove("forward");
        pipeline.remove("http");
        return channel;
    }

    /**
     * The exchange lost its client while this HTTP/1.1 connection was mid-response, with the whole
     * request sent: the rest of the response is read and dropped, and the connection pooled if the
     * response ends soon and cleanly (see {@link ResponseDrain}), else closed.
     *
     * @param reusable whether the response head, if the exchange saw it, allows reuse; null if it has not arrived
     * @param bodyless whether the request was HEAD (its response has no body whatever the headers say)
     */
    public void drainThenRelease(Boolean reusable, boolean bodyless) {
        ResponseDrain drain = new ResponseDrain(this, reusable, bodyless);
        listener = drain;
        channel.eventLoop().execute(() -> {
            if (!channel.config().isAutoRead()) {
                channel.config().setAutoRead(true);
            }
            drain.start();
        });
    }

    /**
     * Whether the connection can carry another request after this response: its end is known
     * without a close (no body can follow, or Content-Length, or chunked) and the origin keeps it alive.
     */
    public static boolean reusableAfter(HttpResponse response, boolean bodyFollows) {
        boolean framed = !bodyFollows || HttpUtil.isContentLengthSet(response)
                || HttpUtil.isTransferEncodingChunked(response);
        return framed && HttpUtil.isKeepAlive(response);
    }

    /** Closes the connection instead of reusing it. */
    public void discard() {
        broken = true;
        listener = null;
        channel.close();
    }

    /** The pipeline's last handler: hands events to the borrower, or drops the idle connection. */
    final class EventForwarder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            UpstreamListener l = listener;
            if (l != null && msg instanceof HttpObject http) {
                l.onUpstreamMessage(UpstreamConnection.this, http);
            } else {
                // Data on an idle connection: the origin is talking out of turn; never reuse it.
                ReferenceCountUtil.release(msg);
                dropIdle();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            UpstreamListener l = listener;
            broken = true;
            if (l != null) {
                l.onUpstreamFailure(UpstreamConnection.this, new ClosedChannelException());
            } else {
                home.forget(UpstreamConnection.this);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            UpstreamListener l = listener;
            broken = true;
            if (l != null) {
                l.onUpstreamFailure(UpstreamConnection.this, cause);
            }
            ctx.close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            // A stream reset arrives as an event (it is not flow-controlled), before the stream closes.
            if (event instanceof io.netty.handler.codec.http2.Http2ResetFrame reset
                    && reset.errorCode() == io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM.code()) {
                refusedByPeer = true;
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            UpstreamListener l = listener;
            if (l != null) {
                l.onUpstreamWritabilityChanged(UpstreamConnection.this, ctx.channel().isWritable());
            }
        }

        private void dropIdle() {
            broken = true;
            home.forget(UpstreamConnection.this);
            channel.close();
        }
    }
}
