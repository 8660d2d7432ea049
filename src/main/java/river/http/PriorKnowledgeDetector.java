package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.util.List;
import river.proxy.ProxyEngine;

/**
 * On a cleartext listener with {@code h2c=true}: looks at a connection's first bytes and sets it up
 * for HTTP/2 when they are the client connection preface (prior knowledge, RFC 9113 §3.3), else for
 * HTTP/1.x. The bytes read so far are handed to whichever codec takes over.
 */
public final class PriorKnowledgeDetector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    /** Connections closed before they had said which protocol they speak; read by tests. */
    static final java.util.concurrent.atomic.LongAdder SLOW_CLOSED = new java.util.concurrent.atomic.LongAdder();

    private final ProxyEngine engine;
    private final Http1ServerInitializer http1;
    private final Http1Settings settings;

    public PriorKnowledgeDetector(ProxyEngine engine, Http1ServerInitializer http1, Http1Settings settings) {
        this.engine = engine;
        this.http1 = http1;
        this.settings = settings;
    }

    /** Closes a connection that has not sent enough bytes to choose a protocol within the header timeout. */
    private io.netty.util.concurrent.ScheduledFuture<?> deadline;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // A preface sent a byte at a time must not hold the connection open: bytes alone do not extend this.
        deadline = ctx.executor().schedule(() -> {
            SLOW_CLOSED.increment();
            ctx.close();
        }, settings.requestHeaderTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        deadline.cancel(false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int compared = Math.min(in.readableBytes(), PREFACE.readableBytes());
        boolean prefixMatches = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, compared);
        if (prefixMatches && compared < PREFACE.readableBytes()) {
            return; // not enough bytes to decide yet
        }
        if (prefixMatches) {
            Http2Pipeline.install(ctx.pipeline(), engine, settings, false);
        } else {
            ctx.pipeline().addLast(http1);
        }
        // Removing this decoder passes the bytes it holds to the codec just added.
        ctx.pipeline().remove(this);
    }
}
