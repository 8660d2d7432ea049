package river.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.stream.ChunkedInput;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import river.headers.CompactHeaders;
import river.proxy.Downstream;
import river.proxy.Exchange;
import river.proxy.ProxyEngine;

/**
 * One HTTP/2 request stream as an exchange's client side, fed and written through the connection's
 * frame codec by {@link Http2Streams}. The request goes through the same exchange and phases as an
 * HTTP/1.x request, converted by Netty's {@link HttpConversionUtil} as its stream codec did. Flow
 * control is per stream: while the exchange does not read, DATA is held (at most the stream's receive
 * window, since nothing is returned to the client's window meanwhile); what the stream has written and
 * not yet sent is bounded per stream ({@link #HIGH_WATER}), whatever window the client grants.
 * Confined to the connection's event loop.
 */
final class Http2ServerStream implements Downstream, river.proxy.Tunnel.ClientEnd {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Http2ServerStream.class);
    /** Stream failures that ended in a reset with nothing sent to the client; read by tests. */
    static final java.util.concurrent.atomic.LongAdder FAILURES = new java.util.concurrent.atomic.LongAdder();

    private final Http2Streams connection;
    private final Http2FrameStream stream;
    private final ProxyEngine engine;
    private final InetSocketAddress client;
    private final boolean secure;
    private final ChannelHandlerContext ctx;
    /** The exchange in progress; volatile because the shutdown thread reads it. */
    private volatile Exchange current;
    private boolean headSeen;
    private boolean takesBody;
    private boolean reading = true;
    /** Body pieces received while the exchange does not read, with the window bytes each took. */
    private ArrayDeque<Object> held;
    private boolean closed;
    /** The final response head, held until the body's first piece says whether it ends the stream. */
    private HttpResponse pendingHead;
    /** The write of the current response's last part, while the response is being completed. */
    private ChannelFuture lastWrite;
    /** A body sent piece by piece as the stream takes it (files), or null. */
    private ChunkedInput<HttpContent> chunks;
    /**
     * Bytes of DATA written and not yet on the wire (in the codec's flow control or the connection's
     * outbound buffer): the stream is writable below {@link #HIGH_WATER}, and says so again once they
     * fall to {@link #LOW_WATER}. The client's window alone bounds nothing: a client may open 32 MiB per stream.
     */
    private long unsent;
    private boolean stalled;
    static final int HIGH_WATER = 64 * 1024;
    static final int LOW_WATER = 32 * 1024;
    private long tickAt = Long.MAX_VALUE;
    private io.netty.util.concurrent.ScheduledFuture<?> tickTask;
    /** Whether the request is an extended CONNECT for a WebSocket (RFC 8441). */
    private boolean webSocket;
    /** Once the stream is a WebSocket tunnel: the upstream connection at its other end. */
    private Channel tunnel;
    private static final AsciiString PROTOCOL = Http2Headers.PseudoHeaderName.PROTOCOL.value();

    Http2ServerStream(Http2Streams connection, Http2FrameStream stream, ProxyEngine engine, InetSocketAddress client, boolean secure) {
        this.connection = connection;
        this.stream = stream;
        this.engine = engine;
        this.client = client;
        this.secure = secure;
        this.ctx = connection.context();
    }

    int id() {
        return stream.id();
    }

    // ---- frames in ------------------------------------------------------------------------------

    void onFrame(Http2StreamFrame frame) {
        if (frame instanceof Http2DataFrame data) {
            onData(data);
        } else if (frame instanceof Http2HeadersFrame headers) {
            onHeaders(headers);
        } else {
            // RST_STREAM ends the stream (its state event follows); WINDOW_UPDATE and PRIORITY are the codec's.
            ReferenceCountUtil.release(frame);
        }
    }

    private void onHeaders(Http2HeadersFrame frame) {
        Http2Headers headers = frame.headers();
        if (headSeen) {
            // RFC 9113 §8.1: after the head, only trailers (END_STREAM, no pseudo-header field) may come.
            if (!frame.isEndStream() || Http2RequestHead.hasPseudoHeader(headers)) {
                reset(Http2Error.PROTOCOL_ERROR);
                return;
            }
            LastHttpContent trailers = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
            try {
                HttpConversionUtil.addHttp2ToHttpHeaders(stream.id(), headers, trailers.trailingHeaders(), HttpVersion.HTTP_1_1, true, true);
            } catch (Http2Exception | RuntimeException e) {
                trailers.release();
                fail(e);
                return;
            }
            onBodyPiece(trailers, 0);
            return;
        }
        headSeen = true;
        if (Http2RequestHead.malformed(headers)) {
            reset(Http2Error.PROTOCOL_ERROR);
            return;
        }
        CharSequence protocol = headers.get(PROTOCOL);
        if (protocol != null) {
            if (io.netty.handler.codec.http.HttpMethod.CONNECT.asciiName().contentEquals(headers.method())
                    && AsciiString.contentEqualsIgnoreCase(protocol, "websocket")) {
                // The HTTP/1.1 upgrade it stands for; nothing of the tunnel is read before the upstream agrees.
                headers.remove(PROTOCOL);
                headers.method(io.netty.handler.codec.http.HttpMethod.GET.asciiName());
                webSocket = true;
                reading = false;
            } else {
                // Another protocol over extended CONNECT is nothing River can proxy.
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new io.netty.handler.codec.http2.DefaultHttp2Headers().status("501"), true)
                        .stream(stream), ctx.voidPromise());
                return;
            }
        }
        boolean complete = frame.isEndStream();
        HttpRequest request;
        try {
            request = HttpConversionUtil.toHttpRequest(stream.id(), headers, true);
        } catch (Http2Exception | RuntimeException e) {
            fail(e);
            return;
        }
        HttpHeaders fields = request.headers();
        if (!complete && !HttpUtil.isContentLengthSet(request)) {
            // A body of unknown length; the exchange frames it for HTTP/1.1.
            fields.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        CompactHeaders.removeNames(fields, Http2ServerStream::isConversionHeader);
        if (webSocket) {
            asWebSocketUpgrade(fields);
        }
        boolean bodyless = webSocket || !complete && !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, -1L) == 0L;
        takesBody = !complete && !bodyless;
        current = engine.newExchange(this, request, client, secure);
        current.start(complete || bodyless);
    }

    /**
     * The HTTP/1.1 upgrade an RFC 8441 request stands for: the stream's bytes are the tunnel, not a
     * body, and the upstream needs the handshake headers HTTP/2 leaves out (a fresh key).
     */
    private static void asWebSocketUpgrade(HttpHeaders headers) {
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        byte[] key = new byte[16];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(key);
        headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.SEC_WEBSOCKET_KEY, java.util.Base64.getEncoder().encodeToString(key));
    }

    /** Headers the HTTP/2-to-HTTP/1 conversion adds for its own bookkeeping; never forwarded. */
    private static boolean isConversionHeader(CharSequence name) {
        return name.length() > 8 && AsciiString.regionMatches(name, true, 0, "x-http2-", 0, 8);
    }

    private void onData(Http2DataFrame frame) {
        int windowBytes = frame.initialFlowControlledBytes();
        HttpContent piece = frame.isEndStream() ? new DefaultLastHttpContent(frame.content().retain(), true)
                : new DefaultHttpContent(frame.content().retain());
        frame.release();
        onBodyPiece(piece, windowBytes);
    }

    private void onBodyPiece(HttpContent piece, int windowBytes) {
        if (!reading || held != null && !held.isEmpty()) {
            if (held == null) {
                held = new ArrayDeque<>(4);
            }
            held.add(piece);
            held.add(windowBytes);
            return;
        }
        deliver(piece, windowBytes);
    }

    private void deliver(HttpContent piece, int windowBytes) {
        returnWindow(windowBytes);
        if (tunnel != null) {
            toTunnel(piece);
            return;
        }
        Exchange exchange = current;
        if (exchange != null && takesBody) {
            if (piece instanceof LastHttpContent) {
                takesBody = false;
            }
            exchange.onRequestBody(piece);
        } else {
            piece.release();
        }
    }

    /** A piece of the client's side of the tunnel, to the upstream; the client's END_STREAM ends it. */
    private void toTunnel(HttpContent piece) {
        boolean end = piece instanceof LastHttpContent;
        if (piece.content().isReadable()) {
            tunnel.writeAndFlush(piece.content(), tunnel.voidPromise());
        } else {
            piece.release();
        }
        if (!tunnel.isWritable()) {
            // The upstream's relay reads again once it drains (setReading).
            reading = false;
        }
        if (end) {
            tunnel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            abort();
        }
    }

    /** Gives the bytes a piece took back to the client's window, now that the exchange has it. */
    private void returnWindow(int bytes) {
        if (bytes > 0 && !closed) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
            connection.flushSoon();
        }
    }

    private void deliverHeld() {
        while (reading && held != null && !held.isEmpty()) {
            HttpContent piece = (HttpContent) held.poll();
            int bytes = (Integer) held.poll();
            deliver(piece, bytes);
        }
        ctx.flush();
    }

    /** The codec's error on this stream (a frame or header block it refused): reset with that error. */
    void onStreamError(Http2FrameStreamException e) {
        FAILURES.increment();
        LOG.debug("HTTP/2 stream {} from {} failed; resetting it", stream.id(), client, e);
        reset(e.error());
    }

    /** A request the conversion refused (such as :authority and Host that differ). */
    private void fail(Throwable cause) {
        FAILURES.increment();
        LOG.debug("HTTP/2 stream {} from {} failed; resetting it", stream.id(), client, cause);
        // Reset with the error the peer made, not CANCEL, so the reset counts against the connection's
        // budgets (MadeYouReset).
        Http2Error error = cause instanceof Http2Exception h ? h.error() : cause.getCause() instanceof Http2Exception h ? h.error() : Http2Error.CANCEL;
        reset(error);
    }

    /** The stream is closed (both ends done, reset, or the connection gone). */
    void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        pendingHead = null;
        cancelTick();
        releaseHeld();
        closeChunks();
        Exchange exchange = current;
        current = null;
        if (exchange != null) {
            exchange.onDownstreamClosed();
        }
        if (tunnel != null) {
            tunnel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        }
    }

    private void releaseHeld() {
        if (held != null) {
            for (Object o : held) {
                ReferenceCountUtil.release(o);
            }
            held = null;
        }
    }

    /** Writes a DATA frame, counted in {@link #unsent} until it has gone. */
    private void writeData(io.netty.buffer.ByteBuf content, boolean end, ChannelPromise promise) {
        int bytes = content.readableBytes();
        ChannelPromise sent = promise != null ? promise : bytes == 0 ? null : ctx.newPromise();
        if (sent == null) {
            ctx.write(new DefaultHttp2DataFrame(content, end).stream(stream), ctx.voidPromise());
            return;
        }
        if (bytes > 0) {
            unsent += bytes;
            sent.addListener(f -> sent(bytes));
        }
        ctx.write(new DefaultHttp2DataFrame(content, end).stream(stream), sent);
    }

    private void sent(int bytes) {
        unsent -= bytes;
        if (stalled && unsent <= LOW_WATER) {
            stalled = false;
            onWritable();
        }
    }

    /** What waited for the stream to drain goes on: the tunnel's upstream, a file, the exchange. */
    private void onWritable() {
        if (tunnel != null && !tunnel.config().isAutoRead()) {
            tunnel.config().setAutoRead(true);
        }
        if (chunks != null) {
            pumpChunks();
        }
        Exchange exchange = current;
        if (exchange != null) {
            exchange.onDownstreamWritable();
        }
    }

    private void reset(Http2Error error) {
        Exchange exchange = current;
        current = null;
        if (!closed) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error).stream(stream), ctx.voidPromise());
        }
        if (exchange != null) {
            exchange.onDownstreamClosed();
        }
    }

    // ---- Downstream -----------------------------------------------------------------------------

    @Override
    public EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    @Override
    public InetSocketAddress localAddress() {
        return ClientAddress.local(ctx.channel());
    }

    @Override
    public boolean isHttp10() {
        return false;
    }

    @Override
    public boolean isHttp2() {
        return true;
    }

    @Override
    public void setReading(boolean reading) {
        if (this.reading != reading) {
            this.reading = reading;
            if (reading) {
                deliverHeld();
            }
        }
    }

    @Override
    public boolean isWritable() {
        if (unsent < HIGH_WATER) {
            return true;
        }
        stalled = true;
        return false;
    }

    @Override
    public void sendInformational(HttpResponse response) {
        writeHead(response, false, ctx.voidPromise());
        ctx.flush();
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        // Held until the body's first piece: a response whose body is empty (HEAD, 204, 304, gRPC's
        // Trailers-Only, whose status is in these very fields) is one HEADERS frame with END_STREAM.
        pendingHead = head;
    }

    /** Writes the held head, if any, as a HEADERS frame that does not end the stream. */
    private void writePendingHead() {
        HttpResponse head = pendingHead;
        if (head != null) {
            pendingHead = null;
            writeHead(head, false, ctx.voidPromise());
        }
    }

    private void writeHead(HttpResponse head, boolean end, ChannelPromise promise) {
        Http2Headers headers;
        try {
            headers = HttpConversionUtil.toHttp2Headers(head, true);
        } catch (RuntimeException e) {
            LOG.debug("HTTP/2 stream {}: response head refused", stream.id(), e);
            abort();
            return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(headers, end).stream(stream), promise);
    }

    @Override
    public void sendBody(HttpContent content) {
        if (closed) {
            content.release();
            return;
        }
        if (pendingHead != null && content instanceof LastHttpContent last && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
            HttpResponse head = pendingHead;
            pendingHead = null;
            last.release();
            ChannelPromise promise = ctx.newPromise();
            lastWrite = promise;
            writeHead(head, true, promise);
            ctx.flush();
            return;
        }
        writePendingHead();
        if (content instanceof LastHttpContent last) {
            // Kept so a reset that must follow the response waits for it: Netty writes RST_STREAM at
            // once, ahead of DATA still queued in flow control, which would cut the response off.
            ChannelPromise promise = ctx.newPromise();
            lastWrite = promise;
            HttpHeaders trailers = last.trailingHeaders();
            if (trailers.isEmpty()) {
                writeData(last.content(), true, promise);
            } else {
                if (last.content().isReadable()) {
                    writeData(last.content(), false, null);
                } else {
                    last.release();
                }
                ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(trailers, true), true).stream(stream), promise);
            }
            ctx.flush();
        } else {
            writeData(content.content(), false, null);
            ctx.flush();
        }
    }

    @Override
    public void flush() {
        writePendingHead();
        ctx.flush();
    }

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        ChunkedInput<HttpContent> body = FileBody.http2Chunks(file, offset, length);
        if (body == null) {
            abort();
        } else {
            sendChunks(body);
        }
    }

    @Override
    public void sendChunks(ChunkedInput<HttpContent> body) {
        if (closed) {
            FileBody.close(body);
            return;
        }
        writePendingHead();
        chunks = body;
        pumpChunks();
    }

    /** Writes the chunked body's pieces while the stream can take them; its writability resumes it. */
    private void pumpChunks() {
        while (chunks != null && !closed && isWritable()) {
            HttpContent piece;
            try {
                piece = chunks.readChunk(ctx.alloc());
            } catch (Exception e) {
                LOG.debug("HTTP/2 stream {}: body read failed", stream.id(), e);
                closeChunks();
                abort();
                return;
            }
            boolean ended;
            try {
                ended = piece == null && chunks.isEndOfInput();
            } catch (Exception e) {
                ended = false;
            }
            if (piece == null) {
                // Nothing now and never more: a body cut short leaves the response unframed.
                if (ended) {
                    closeChunks();
                    sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
                } else {
                    closeChunks();
                    abort();
                }
                return;
            }
            if (piece instanceof LastHttpContent) {
                closeChunks();
            }
            sendBody(piece);
        }
    }

    private void closeChunks() {
        ChunkedInput<HttpContent> body = chunks;
        chunks = null;
        if (body != null) {
            FileBody.close(body);
        }
    }

    @Override
    public void responseComplete(boolean requestFullyRead) {
        current = null;
        ChannelFuture sentLast = lastWrite;
        lastWrite = null;
        cancelTick();
        if ((!requestFullyRead || takesBody) && !closed) {
            // The client is still sending a body nobody will read: once the response is out (the reset
            // queues behind it), RST_STREAM(NO_ERROR) tells it to stop (RFC 9113 §8.1).
            takesBody = false;
            releaseHeld();
            Runnable stop = () -> {
                if (!closed) {
                    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR).stream(stream), ctx.voidPromise());
                }
            };
            if (sentLast == null || sentLast.isDone()) {
                stop.run();
            } else {
                sentLast.addListener(f -> stop.run());
            }
        }
    }

    @Override
    public void switchToTunnel(HttpResponse switching, river.proxy.Tunnel.Join upstreamSide, long idleTimeoutMs) {
        current = null;
        cancelTick();
        if (!webSocket || closed) {
            abort();
            return;
        }
        // RFC 8441 §5: the 101 becomes a 200, without HTTP/1.1's handshake headers. The upstream side's
        // idle watch sees the tunnel's bytes both ways.
        HttpResponse ok = new io.netty.handler.codec.http.DefaultHttpResponse(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.OK, switching.headers().copy());
        ok.headers().remove(HttpHeaderNames.CONNECTION).remove(HttpHeaderNames.UPGRADE).remove(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        writeHead(ok, false, ctx.voidPromise());
        ctx.flush();
        tunnel = upstreamSide.toEnd(this);
        setReading(true);
    }

    // ---- the client's end of a tunnel -----------------------------------------------------------

    @Override
    public void write(io.netty.buffer.ByteBuf bytes) {
        if (closed) {
            bytes.release();
            return;
        }
        // An empty buffer (the upstream closed) ends the stream.
        writeData(bytes, !bytes.isReadable(), null);
        ctx.flush();
    }

    @Override
    public boolean isReading() {
        return reading;
    }

    @Override
    public void end() {
        if (!closed) {
            ChannelPromise sent = ctx.newPromise();
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true).stream(stream), sent);
            sent.addListener(f -> abort());
        }
    }

    @Override
    public void close() {
        abort();
    }

    @Override
    public void wakeAt(long deadline) {
        if (deadline - tickAt < 0 && !closed) {
            cancelTick();
            tickAt = deadline;
            tickTask = ctx.executor().schedule(this::tick, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
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
        if (exchange != null && !closed) {
            long next = exchange.onTick(now);
            if (next != 0) {
                wakeAt(next);
            }
        }
    }

    @Override
    public void abort() {
        // As closing a stream channel did: RST_STREAM(CANCEL) for this stream, the connection goes on.
        pendingHead = null;
        closeChunks();
        if (!closed) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream), ctx.voidPromise());
        }
    }
}
