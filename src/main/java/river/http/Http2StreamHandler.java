package river.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import river.headers.CompactHeaders;
import river.proxy.Exchange;
import river.proxy.ProxyEngine;

/**
 * One HTTP/2 stream, seen through Netty's stream-to-HTTP/1 object codec: the request goes through the
 * same exchange and phases as an HTTP/1.x request. Flow control is per stream: reading from the stream
 * pauses while the upstream cannot take more, and writes wait for the stream's window.
 */
final class Http2StreamHandler extends ExchangeDownstream {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Http2StreamHandler.class);
    /** Stream failures that ended in a reset with nothing sent to the client; read by tests. */
    static final java.util.concurrent.atomic.LongAdder FAILURES = new java.util.concurrent.atomic.LongAdder();

    private final ProxyEngine engine;
    private final InetSocketAddress client;
    private final boolean secure;
    private boolean takesBody;
    /** The write of the current response's last part, while the response is being completed. */
    private io.netty.channel.ChannelFuture lastWrite;
    private long tickAt = Long.MAX_VALUE;
    /** The pending deadline check; cancelled when the stream ends, so a finished stream is not kept alive. */
    private io.netty.util.concurrent.ScheduledFuture<?> tickTask;

    Http2StreamHandler(ProxyEngine engine, InetSocketAddress client, boolean secure) {
        this.engine = engine;
        this.client = client;
        this.secure = secure;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && current == null) {
            stripConversionHeaders(request.headers());
            boolean webSocket = Boolean.TRUE.equals(ctx.channel().attr(ExtendedConnect.WEBSOCKET).get());
            if (webSocket) {
                asWebSocketUpgrade(request.headers());
            }
            boolean bodyless = webSocket || !(msg instanceof HttpContent) && !HttpUtil.isTransferEncodingChunked(request)
                    && HttpUtil.getContentLength(request, -1L) == 0L;
            boolean complete = msg instanceof LastHttpContent;
            takesBody = !complete && !bodyless;
            // The codec marks a body of unknown length as chunked; the exchange frames it for HTTP/1.1.
            current = engine.newExchange(this, request, client, secure);
            current.start(complete || bodyless);
            if (msg instanceof HttpContent content && !complete) {
                onBody(content);
            } else if (msg instanceof HttpContent content) {
                content.release();
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            onBody(content);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    private void onBody(HttpContent content) {
        if (current != null && takesBody) {
            if (content instanceof LastHttpContent) {
                takesBody = false;
            }
            current.onRequestBody(content);
        } else {
            content.release();
        }
    }

    /**
     * The HTTP/1.1 upgrade an RFC 8441 request stands for: the stream's bytes are the tunnel, not a
     * body, and the upstream needs the handshake headers HTTP/2 leaves out (a fresh key).
     */
    private static void asWebSocketUpgrade(HttpHeaders headers) {
        headers.remove(io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH);
        byte[] key = new byte[16];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(key);
        headers.set(io.netty.handler.codec.http.HttpHeaderNames.UPGRADE, io.netty.handler.codec.http.HttpHeaderValues.WEBSOCKET)
                .set(io.netty.handler.codec.http.HttpHeaderNames.CONNECTION, io.netty.handler.codec.http.HttpHeaderValues.UPGRADE)
                .set(io.netty.handler.codec.http.HttpHeaderNames.SEC_WEBSOCKET_KEY, java.util.Base64.getEncoder().encodeToString(key));
    }

    /** Headers the HTTP/2-to-HTTP/1 conversion adds for its own bookkeeping; never forwarded. */
    private static void stripConversionHeaders(HttpHeaders headers) {
        CompactHeaders.removeNames(headers, Http2StreamHandler::isConversionHeader);
    }

    private static boolean isConversionHeader(CharSequence name) {
        return name.length() > 8 && AsciiString.regionMatches(name, true, 0, "x-http2-", 0, 8);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTick();
        abandonExchange();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FAILURES.increment();
        LOG.debug("HTTP/2 stream {} from {} failed; resetting it", ctx.channel(), client, cause);
        // The peer broke the protocol on this stream (a frame error, or a request the HTTP/1 conversion
        // refuses, such as :authority and Host that differ): reset it with the error it made, not CANCEL,
        // so the reset counts against the connection's budgets (MadeYouReset).
        io.netty.handler.codec.http2.Http2Error error = cause instanceof io.netty.handler.codec.http2.Http2FrameStreamException e ? e.error()
                : cause.getCause() instanceof io.netty.handler.codec.http2.Http2Exception h ? h.error() : null;
        if (error != null && ctx.channel().isActive()) {
            ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(error))
                    .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            return;
        }
        ctx.close();
    }

    // ---- Downstream -----------------------------------------------------------------------------

    @Override
    public boolean isHttp10() {
        return false;
    }

    @Override
    public boolean isHttp2() {
        return true;
    }

    @Override
    public void sendInformational(HttpResponse response) {
        channel.writeAndFlush(response, channel.voidPromise());
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        channel.write(head, channel.voidPromise());
    }

    @Override
    public void sendBody(HttpContent content) {
        if (content instanceof LastHttpContent) {
            // Kept so a reset that must follow the response waits for it: Netty writes RST_STREAM at
            // once, ahead of DATA still queued in flow control, which would cut the response off.
            lastWrite = channel.writeAndFlush(content);
        } else {
            channel.writeAndFlush(content, channel.voidPromise());
        }
    }

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        FileBody.ensureChunkedWriter(channel.pipeline(), this);
        if (FileBody.write(channel, file, offset, length, FileBody.Framing.HTTP2_CHUNKS) != null) {
            channel.flush();
        } else {
            abort();
        }
    }

    @Override
    public void sendChunks(io.netty.handler.stream.ChunkedInput<HttpContent> body) {
        FileBody.ensureChunkedWriter(channel.pipeline(), this);
        if (FileBody.writeChunks(channel, body) != null) {
            channel.flush();
        } else {
            abort();
        }
    }

    @Override
    public void responseComplete(boolean requestFullyRead) {
        current = null;
        io.netty.channel.ChannelFuture sentLast = lastWrite;
        lastWrite = null;
        cancelTick();
        if (!requestFullyRead || takesBody) {
            // The client is still sending a body nobody will read: once the response is out (the reset
            // queues behind it), RST_STREAM(NO_ERROR) tells it to stop (RFC 9113 §8.1).
            io.netty.channel.ChannelFuture sent = sentLast;
            Runnable reset = () -> channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(io.netty.handler.codec.http2.Http2Error.NO_ERROR))
                    .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            if (sent == null) {
                reset.run();
            } else {
                sent.addListener(f -> reset.run());
            }
        }
    }

    @Override
    public void switchToTunnel(HttpResponse switching, UnaryOperator<Channel> upstreamSide, long idleTimeoutMs) {
        current = null;
        cancelTick();
        if (!Boolean.TRUE.equals(channel.attr(ExtendedConnect.WEBSOCKET).get())) {
            abort();
            return;
        }
        // RFC 8441 §5: the 101 becomes a 200, without HTTP/1.1's handshake headers.
        HttpResponse ok = new io.netty.handler.codec.http.DefaultHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.OK, switching.headers().copy());
        ok.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.CONNECTION)
                .remove(io.netty.handler.codec.http.HttpHeaderNames.UPGRADE)
                .remove(io.netty.handler.codec.http.HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        channel.writeAndFlush(ok, channel.voidPromise());
        Channel upstream = upstreamSide.apply(channel);
        var pipeline = channel.pipeline();
        pipeline.addAfter("stream", "tunnel-frames", new ExtendedConnect.DataFrameBytes());
        pipeline.addAfter("tunnel-frames", "tunnel-idle", river.proxy.Tunnel.idleWatch(idleTimeoutMs));
        pipeline.addAfter("tunnel-idle", "tunnel", river.proxy.Tunnel.relayTo(upstream));
        pipeline.remove(this);
        FileBody.removeChunkedWriter(pipeline);
        pipeline.remove("http");
        channel.config().setAutoRead(true);
    }

    @Override
    public void wakeAt(long deadline) {
        if (deadline - tickAt < 0 && channel.isActive()) {
            cancelTick();
            tickAt = deadline;
            tickTask = channel.eventLoop().schedule(this::tick, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    private void cancelTick() {
        if (tickTask != null) {
            tickTask.cancel(false);
            tickTask = null;
        }
        tickAt = Long.MAX_VALUE;
    }

    private void tick() {
        long now = System.nanoTime();
        tickTask = null;
        tickAt = Long.MAX_VALUE;
        Exchange exchange = current;
        if (exchange != null && channel.isActive()) {
            long next = exchange.onTick(now);
            if (next != 0) {
                wakeAt(next);
            }
        }
    }

    @Override
    public void abort() {
        // Closing a stream channel resets the stream, not the connection.
        channel.close();
    }
}
