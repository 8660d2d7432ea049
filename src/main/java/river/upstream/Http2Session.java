package river.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One HTTP/2 connection to a peer, shared by requests from every event loop: each request is a
 * stream. Counts its open streams against the limit the peer announced, and stops taking new ones
 * once the peer sends GOAWAY or the connection closes.
 */
final class Http2Session implements UpstreamConnection.Home {
    /** Streams assumed allowed until the peer's SETTINGS say otherwise (RFC 9113 recommends ≥ 100). */
    static final int DEFAULT_MAX_STREAMS = 100;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Http2Session.class);
    /** Connection-level failures that closed a session with no one else told why; read by tests. */
    static final java.util.concurrent.atomic.LongAdder FAILURES = new java.util.concurrent.atomic.LongAdder();

    private final Channel parent;
    private final Peer peer;
    private final Http2StreamChannelBootstrap streams;
    private final AtomicInteger open = new AtomicInteger();
    private volatile int maxStreams = DEFAULT_MAX_STREAMS;
    private volatile boolean draining;
    private volatile boolean servedBefore;
    /** When the last stream ended (System.nanoTime), for the idle sweep. */
    private volatile long idleSince = System.nanoTime();

    private volatile boolean closeWhenIdle;
    private final Promise<Object> ready;

    /** @param ready completed with this session once the peer's SETTINGS arrived (its stream limit is known) */
    Http2Session(Channel parent, Peer peer, Promise<Object> ready) {
        this.parent = parent;
        this.peer = peer;
        this.ready = ready;
        this.streams = new Http2StreamChannelBootstrap(parent);
    }

    /** The handler to put after the multiplexer: it watches the connection-level frames. */
    ChannelInboundHandlerAdapter watcher() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2SettingsFrame settings) {
                    Long limit = settings.settings().maxConcurrentStreams();
                    if (limit != null) {
                        maxStreams = (int) Math.min(Integer.MAX_VALUE, limit);
                    }
                    ready.trySuccess(Http2Session.this);
                } else if (msg instanceof Http2GoAwayFrame) {
                    // Streams the peer already took finish; new requests go to another connection.
                    draining = true;
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                FAILURES.increment();
                LOG.debug("HTTP/2 connection {} to {} failed; closing it", ctx.channel(), peer, cause);
                ctx.close();
            }
        };
    }

    Peer peer() {
        return peer;
    }

    /** Reserves a stream if the peer allows one more; the caller must then {@link #openStream}. */
    boolean tryReserve() {
        while (!draining && parent.isActive()) {
            int now = open.get();
            if (now >= maxStreams) {
                return false;
            }
            if (open.compareAndSet(now, now + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Opens a reserved stream and completes {@code promise} with it, listener attached. */
    void openStream(UpstreamListener listener, Promise<UpstreamConnection> promise) {
        streams.open().addListener(f -> {
            if (!f.isSuccess()) {
                streamEnded();
                promise.tryFailure(f.cause());
                return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            stream.closeFuture().addListener(closed -> streamEnded());
            UpstreamConnection connection = new UpstreamConnection(stream, peer, this, servedBefore);
            servedBefore = true;
            stream.pipeline().addLast("http", new Http2StreamFrameToHttpObjectCodec(false));
            stream.pipeline().addLast("clean", new ConversionHeaderRemover());
            stream.pipeline().addLast("forward", connection.new EventForwarder());
            connection.attach(listener);
            if (!promise.trySuccess(connection)) {
                connection.discard();
            }
        });
    }

    private void streamEnded() {
        if (open.decrementAndGet() == 0) {
            idleSince = System.nanoTime();
            if (closeWhenIdle) {
                parent.close();
            }
        }
    }

    /** Whether no stream is open and none has been for longer than {@code nanos}. */
    boolean idleLongerThan(long nanos, long now) {
        return open.get() == 0 && now - idleSince > nanos;
    }

    /** Streams open now on this connection. */
    int openStreams() {
        return open.get();
    }

    /** Whether new streams may still be opened on this connection. */
    boolean usable() {
        return !draining && parent.isActive();
    }

    /** Stops taking streams and closes the connection once the open ones have finished. */
    void closeWhenDone() {
        draining = true;
        closeWhenIdle = true;
        if (open.get() == 0) {
            parent.close();
        }
    }

    /** A finished stream is closed; the connection stays for the next request. */
    @Override
    public void release(UpstreamConnection connection) {
        connection.channel().close();
    }

    @Override
    public void forget(UpstreamConnection connection) {
        connection.channel().close();
    }

    /** The conversion adds a stream-id header to each response for its own bookkeeping; never forwarded. */
    private static final class ConversionHeaderRemover extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpResponse response) {
                response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
            }
            ctx.fireChannelRead(msg);
        }
    }
}
