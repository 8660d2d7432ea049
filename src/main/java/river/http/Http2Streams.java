package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import river.proxy.ProxyEngine;

/**
 * The streams of one HTTP/2 client connection, each an {@link Http2ServerStream} driven straight from
 * the frame codec's frames: no child channel, pipeline or HTTP/1 object codec per stream. Netty's
 * stream-as-a-channel model (its multiplexer) cost about a fifth of River's CPU per HTTP/2 request:
 * a channel registered and a pipeline built per stream, a promise per frame, the conversion handler's
 * lists. A stream is created on its first HEADERS and forgotten when the codec says it closed.
 */
final class Http2Streams extends ChannelInboundHandlerAdapter {
    private final ProxyEngine engine;
    private final InetSocketAddress client;
    private final boolean secure;
    private final Http2Drain drain;
    private final Http2FrameCodec codec;
    /** The open streams, by id; at most the connection's concurrent streams. */
    private final IntObjectMap<Http2ServerStream> streams = new IntObjectHashMap<>(8);
    private ChannelHandlerContext ctx;
    private boolean flushPending;

    Http2Streams(ProxyEngine engine, InetSocketAddress client, boolean secure, Http2Drain drain, Http2FrameCodec codec) {
        this.engine = engine;
        this.client = client;
        this.secure = secure;
        this.drain = drain;
        this.codec = codec;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    Http2Connection connection() {
        return codec.connection();
    }

    /** Asks for a flush when this read ends (window updates go out together). */
    void flushSoon() {
        flushPending = true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame frame && frame.stream() != null) {
            Http2FrameStream stream = frame.stream();
            Http2ServerStream served = streams.get(stream.id());
            if (served == null && frame instanceof Http2HeadersFrame && stream.state() != Http2Stream.State.CLOSED) {
                served = new Http2ServerStream(this, stream, engine, client, secure);
                streams.put(stream.id(), served);
                drain.streamOpened();
            }
            if (served != null) {
                served.onFrame(frame);
            } else {
                // A frame of a stream already gone (a reset raced it): nothing to do with it.
                ReferenceCountUtil.release(frame);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent event) {
            Http2FrameStream stream = event.stream();
            Http2ServerStream served = streams.get(stream.id());
            // Writability events are not needed: a stream measures what it has in flight itself.
            if (served != null && event.type() == Http2FrameStreamEvent.Type.State && stream.state() == Http2Stream.State.CLOSED) {
                forget(stream.id(), served);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void forget(int id, Http2ServerStream served) {
        streams.remove(id);
        served.onClosed();
        drain.streamClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            Http2ServerStream served = streams.get(e.stream().id());
            if (served != null) {
                served.onStreamError(e);
            } else {
                // A stream whose head the codec refused before it reached a stream of ours.
                Http2ServerStream.FAILURES.increment();
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), ctx.voidPromise());
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!streams.isEmpty()) {
            for (Http2ServerStream served : new ArrayList<>(streams.values())) {
                forget(served.id(), served);
            }
        }
        ctx.fireChannelInactive();
    }
}
