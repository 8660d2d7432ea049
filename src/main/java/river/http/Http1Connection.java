package river.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.proxy.Exchange;
import river.proxy.ProxyEngine;
import river.proxy.Tunnel;

/**
 * One HTTP/1.x client connection: validates each request head, hands it to the engine as an
 * exchange, and answers pipelined requests strictly in order, one exchange at a time. It is the
 * exchange's {@link Downstream}: it frames responses for the client's HTTP version and keep-alive
 * wishes. It also enforces the connection's own timeouts: request head (slowloris) and keep-alive idle.
 */
final class Http1Connection extends ExchangeDownstream implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Http1Connection.class);
    private static final int MAX_QUEUED = 256;

    private final ProxyEngine engine;
    private final Http1Settings settings;
    private final boolean secure;
    /**
     * Sized for the common case, no pipelining: an idle connection holds a one-slot array instead of
     * the default sixteen (56 bytes less per connection); it grows when a client pipelines.
     */
    private final ArrayDeque<HttpObject> queued = new ArrayDeque<>(0);
    /** Request heads in {@link #queued}: requests pipelined behind the one being answered. */
    private int queuedRequests;
    /**
     * The client pipelined more than {@code max-pipelined-requests}: everything after the last request
     * taken is dropped, and the connection closes once the requests taken are answered.
     */
    private boolean pipelineFull;
    private InetSocketAddress client;

    private boolean currentTakesBody;
    private boolean keepAlive;
    private boolean http10;
    private boolean closeAfterResponse;
    private boolean closing;

    private boolean awaitingHead = true;
    private boolean headStarted;
    /** Bytes of the next request head have arrived (a request is on its way: a drain must not cut it). */
    private boolean headBytes;
    /**
     * Between requests of a keep-alive connection (a response was completed and no byte of the next
     * request has come): a hint other threads read to find a connection worth reclaiming at the cap.
     */
    private volatile boolean idleKeepAlive;
    /** A graceful stop began: the response in progress is the connection's last. */
    private boolean draining;
    private boolean drainScheduled;
    /** When the client must have sent a complete request head (System.nanoTime), or 0. */
    private long headDeadline;
    /** When the pending timer tick fires, or Long.MAX_VALUE when none is pending. */
    private long tickAt = Long.MAX_VALUE;
    /**
     * The last response's file while it is still being written (the exchange is over by then), or null;
     * its progress lives there, not in fields every idle connection would carry.
     */
    private FileInFlight fileInFlight;

    Http1Connection(ProxyEngine engine, Http1Settings settings, boolean secure) {
        this.engine = engine;
        this.settings = settings;
        this.secure = secure;
    }

    /** Called by the decoder for every read: a request's first byte starts its head timer. */
    void onBytes() {
        if (awaitingHead) {
            headBytes = true;
            idleKeepAlive = false;
        }
        if (awaitingHead && !headStarted) {
            headStarted = true;
            armHeadTimer(settings.requestHeaderTimeoutMs());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // A connection that sends nothing gets the request-head time, then is closed.
        headStarted = true;
        armHeadTimer(settings.requestHeaderTimeoutMs());
        ctx.fireChannelActive();
    }

    /**
     * A graceful stop. From {@code drainDelayMs} on, the response in progress (or the next, if a request
     * is on its way) says {@code Connection: close} and is the last; an idle connection is closed at
     * {@code idleCloseDelayMs} (not before the first). An upgrade draws one moment per connection for
     * both, so that clients do not all reconnect at once; a reload closes idle connections only at the
     * end of its grace period. On the event loop.
     */
    void drain(long drainDelayMs, long idleCloseDelayMs) {
        if (drainScheduled || closing) {
            return;
        }
        drainScheduled = true;
        later(drainDelayMs, () -> draining = true);
        later(Math.max(drainDelayMs, idleCloseDelayMs), () -> {
            draining = true;
            if (isIdle() && !closing) {
                LOG.debug("draining: closing idle connection {}", client);
                closeIdleForDrain();
            }
        });
    }

    private void later(long delayMs, Runnable task) {
        if (delayMs <= 0) {
            task.run();
        } else {
            channel.eventLoop().schedule(task, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Closes an idle keep-alive connection whose client may be sending its next request this instant:
     * a plain close with those bytes unread would make the kernel answer with a reset. Instead the
     * sending side is shut (after TLS's close_notify) and what still comes is read and discarded, so the
     * client sees the end of the connection before any byte of an answer, and resends its request on a
     * new connection, as RFC 9112 §9.3.1 lets it.
     */
    private void closeIdleForDrain() {
        closing = true;
        cancelHeadTimer();
        releaseQueued();
        LingeringClose linger = new LingeringClose();
        channel.pipeline().addFirst("drain-linger", linger);
        io.netty.handler.ssl.SslHandler tls = channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (tls != null) {
            tls.closeOutbound().addListener(f -> linger.begin());
        } else {
            linger.begin();
        }
    }

    /** Nothing in progress, nothing queued, and no byte of a next request received. */
    private boolean isIdle() {
        return current == null && queued.isEmpty() && awaitingHead && !headBytes;
    }

    /** Whether a request is in progress or waiting; read by the shutdown thread. */
    boolean busy() {
        return current != null;
    }

    // ---- inbound --------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing || pipelineFull) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            if (current != null || !queued.isEmpty()) {
                int maxPipelined = settings.connectionLimits().maxPipelinedRequests();
                if (queuedRequests >= maxPipelined) {
                    LOG.debug("client {} pipelined more than {} requests; answering those and closing", client, maxPipelined);
                    pipelineFull = true;
                    ReferenceCountUtil.release(request);
                    channel.config().setAutoRead(false);
                    return;
                }
                queuedRequests++;
                enqueue(request);
                return;
            }
            onRequestHead(request);
            if (request instanceof HttpContent content) {
                onRequestBody(content);
            }
        } else if (msg instanceof HttpContent content) {
            if (!queued.isEmpty()) {
                enqueue(content);
            } else {
                onRequestBody(content);
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void enqueue(HttpObject message) {
        if (queued.size() >= MAX_QUEUED) {
            ReferenceCountUtil.release(message);
            closeNow();
            return;
        }
        queued.add(message);
        channel.config().setAutoRead(false);
    }

    private void onRequestHead(HttpRequest request) {
        cancelHeadTimer();
        awaitingHead = false;
        headStarted = false;
        headBytes = false;
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            reject(status, "malformed request");
            return;
        }
        if (!request.protocolVersion().equals(HttpVersion.HTTP_1_1) && !request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            reject(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1 are spoken here");
            return;
        }
        String violation = RequestFraming.violation(request);
        if (violation != null) {
            reject(HttpResponseStatus.BAD_REQUEST, violation);
            return;
        }
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
            reject(HttpResponseStatus.EXPECTATION_FAILED, "unsupported expectation");
            return;
        }
        http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        keepAlive = HttpUtil.isKeepAlive(request);
        closeAfterResponse = false;
        boolean bodyless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0L;
        currentTakesBody = !bodyless;
        if (client == null) {
            client = ClientAddress.of(channel);
        }
        current = engine.newExchange(this, request, client, secure);
        current.start(bodyless);
    }

    private void onRequestBody(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            // Broken chunk framing: the rest of the stream cannot be trusted.
            content.release();
            Exchange exchange = current;
            currentTakesBody = false;
            if (exchange != null) {
                exchange.onRequestBodyInvalid();
            } else {
                closeNow();
            }
            return;
        }
        if (current != null && currentTakesBody) {
            if (content instanceof LastHttpContent) {
                currentTakesBody = false;
            }
            current.onRequestBody(content);
        } else {
            content.release();
        }
    }

    /** Answers a request that must not be forwarded, then closes: its framing cannot be trusted. */
    private void reject(HttpResponseStatus status, String reason) {
        LOG.debug("rejecting request from {}: {} ({})", client, status.code(), reason);
        closing = true;
        byte[] text = (status.code() + " " + status.reasonPhrase() + ": " + reason + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(text));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, text.length)
                .set(HttpHeaderNames.DATE, river.proxy.HttpDate.now())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        channel.config().setAutoRead(false);
        channel.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHeadTimer();
        abandonExchange();
        HttpObject m;
        while ((m = queued.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("client connection {} failed: {}", client, cause.toString());
        closeNow();
    }

    // ---- Downstream -----------------------------------------------------------------------------

    @Override
    public boolean isHttp10() {
        return http10;
    }

    @Override
    public void setReading(boolean reading) {
        if (reading && (!queued.isEmpty() || closing || pipelineFull)) {
            return;
        }
        super.setReading(reading);
    }

    @Override
    public void sendInformational(HttpResponse response) {
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        channel.write(response, channel.voidPromise());
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        if (bodyFollows && !HttpUtil.isContentLengthSet(head)) {
            if (http10) {
                closeAfterResponse = true;
            } else {
                head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        // The last request taken from an over-full pipeline: the client must resend the rest elsewhere.
        boolean close = !keepAlive || closeAfterResponse || (draining && queuedRequests == 0) || (pipelineFull && queuedRequests == 0);
        if (close) {
            closeAfterResponse = true;
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        head.setProtocolVersion(HttpVersion.HTTP_1_1);
        channel.write(head, channel.voidPromise());
    }

    @Override
    public void sendBody(HttpContent content) {
        if (content instanceof LastHttpContent && !closeAfterResponse && queued.isEmpty()) {
            // The reclaim hint goes up before the last bytes leave: a client reading them may connect
            // again at once, and the cap must then find this connection. Only a hint: reclaim()
            // re-checks on this loop, after responseComplete has decided.
            idleKeepAlive = true;
        }
        channel.writeAndFlush(content, channel.voidPromise());
    }

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        if (secure) {
            // Files cannot be sent zero-copy through TLS: they go in chunks through the encryption.
            FileBody.ensureChunkedWriter(channel.pipeline(), this);
        }
        if (bodyInFlight(FileBody.write(channel, file, offset, length, secure ? FileBody.Framing.CHUNKS : FileBody.Framing.ZERO_COPY))) {
            sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    @Override
    public void sendChunks(io.netty.handler.stream.ChunkedInput<HttpContent> body) {
        // In clear, files go zero-copy and need no chunked writer; the first chunked body adds one.
        FileBody.ensureChunkedWriter(channel.pipeline(), this);
        if (bodyInFlight(FileBody.writeChunks(channel, body))) {
            channel.flush();
        }
    }

    /**
     * The exchange ends once a file body is handed over, with the file still on its way: the keep-alive
     * timer that starts then must not cut a download that is moving (see onHeadTimeout), and starts
     * afresh when it is done. A body that could not be written at all aborts the response.
     */
    private boolean bodyInFlight(io.netty.channel.ChannelProgressiveFuture write) {
        if (write == null) {
            abort();
            return false;
        }
        FileInFlight file = new FileInFlight();
        fileInFlight = file;
        write.addListener(file);
        return true;
    }

    /** A file body on its way after its exchange ended: how far it got, for the keep-alive timer. */
    private final class FileInFlight implements io.netty.channel.ChannelProgressiveFutureListener {
        /** Bytes written so far, and when the keep-alive timer last looked. */
        long sent;
        long sentAtCheck;

        @Override
        public void operationProgressed(io.netty.channel.ChannelProgressiveFuture f, long progress, long total) {
            sent = progress;
        }

        @Override
        public void operationComplete(io.netty.channel.ChannelProgressiveFuture f) {
            if (fileInFlight == this) {
                fileInFlight = null;
                if (f.isSuccess() && awaitingHead && !headStarted && current == null && !closing) {
                    armHeadTimer(settings.keepaliveIdleTimeoutMs());
                }
            }
        }
    }

    @Override
    public void responseComplete(boolean requestFullyRead) {
        current = null;
        if (closeAfterResponse || !requestFullyRead || currentTakesBody || (pipelineFull && queuedRequests == 0)) {
            // Unread body bytes would be taken for the next request: close once the response is out.
            closing = true;
            releaseQueued();
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        awaitingHead = true;
        headStarted = false;
        if (!queued.isEmpty()) {
            drainQueue();
            return;
        }
        if (draining) {
            // Said Connection: close already when the head went out; here only if the head was sent
            // before the drain began: this was still the last response.
            closing = true;
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        armHeadTimer(settings.keepaliveIdleTimeoutMs());
        idleKeepAlive = true;
        resumeReading();
    }

    /** Whether the connection is, by its last word, an idle keep-alive connection (readable from any thread). */
    boolean idleKeepAlive() {
        return idleKeepAlive;
    }

    /**
     * The service is at its connection cap: an idle keep-alive connection makes room, as nginx reuses
     * them when it runs out, closed so that a client sending its next request this instant resends it.
     * On the event loop; does nothing if a request has started meanwhile.
     */
    void reclaim() {
        if (idleKeepAlive && isIdle() && !closing) {
            idleKeepAlive = false;
            LOG.debug("at the connection cap: closing idle keep-alive connection {}", client);
            closeIdleForDrain();
        }
    }

    /** Turns reading back on; a no-op when it is on, since each change costs a system call. */
    private void resumeReading() {
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    /** Starts the next pipelined request, and feeds it the pieces already read. */
    private void drainQueue() {
        HttpObject first = queued.poll();
        queuedRequests--;
        if (!(first instanceof HttpRequest request)) {
            ReferenceCountUtil.release(first);
            closeNow();
            return;
        }
        onRequestHead(request);
        while (!queued.isEmpty() && !(queued.peek() instanceof HttpRequest)) {
            onRequestBody((HttpContent) queued.poll());
        }
        if (queued.isEmpty() && current != null && currentTakesBody) {
            // The body continues on the wire; the exchange resumes reading when it is ready.
            return;
        }
        if (queued.isEmpty() && current == null && !closing) {
            resumeReading();
        }
    }

    @Override
    public void switchToTunnel(HttpResponse switching, river.proxy.Tunnel.Join upstreamSide, long idleTimeoutMs) {
        current = null;
        closing = true;
        cancelHeadTimer();
        releaseQueued();
        switching.setProtocolVersion(HttpVersion.HTTP_1_1);
        channel.write(switching, channel.voidPromise());
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, channel.voidPromise());
        Channel upstream = upstreamSide.toChannel(channel);
        var pipeline = channel.pipeline();
        pipeline.addAfter("decoder", "tunnel-idle", Tunnel.idleWatch(idleTimeoutMs));
        pipeline.addAfter("tunnel-idle", "tunnel", Tunnel.relayTo(upstream));
        pipeline.remove(this);
        FileBody.removeChunkedWriter(pipeline);
        pipeline.remove("encoder");
        // Removing the decoder hands any bytes it buffered to the tunnel.
        pipeline.remove("decoder");
        channel.config().setAutoRead(true);
    }

    @Override
    public void abort() {
        closing = true;
        releaseQueued();
        if (channel.isActive()) {
            // A reset tells the client the response is incomplete, unlike a clean close.
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }

    // ---- timers ---------------------------------------------------------------------------------

    private void armHeadTimer(long ms) {
        headDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        wakeAt(headDeadline);
    }

    private void cancelHeadTimer() {
        headDeadline = 0;
    }

    @Override
    public void wakeAt(long deadline) {
        if (deadline - tickAt < 0 && !closing) {
            tickAt = deadline;
            // The connection is its own timer task: no lambda per schedule, none held while idle.
            channel.eventLoop().schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** The connection's one timer (its scheduled task): checks every deadline and sleeps until the next. */
    @Override
    public void run() {
        long now = System.nanoTime();
        if (now - tickAt >= 0) {
            tickAt = Long.MAX_VALUE;
        }
        if (!channel.isActive()) {
            return;
        }
        if (headDeadline != 0 && now - headDeadline >= 0) {
            headDeadline = 0;
            onHeadTimeout();
        }
        long next = headDeadline;
        Exchange exchange = current;
        if (exchange != null) {
            long d = exchange.onTick(now);
            if (d != 0 && (next == 0 || d - next < 0)) {
                next = d;
            }
        }
        if (next != 0) {
            wakeAt(next);
        }
    }

    private void onHeadTimeout() {
        if (!awaitingHead || current != null) {
            return;
        }
        FileInFlight file = fileInFlight;
        if (file != null && !headStarted && file.sent != file.sentAtCheck) {
            // The last response's file is still going out and moved since the timer was armed: the
            // client is downloading, not idle. One that took nothing for a whole period is closed.
            file.sentAtCheck = file.sent;
            armHeadTimer(settings.keepaliveIdleTimeoutMs());
            return;
        }
        LOG.debug("closing idle or slow client connection {}", client);
        closeNow();
    }

    private void closeNow() {
        closing = true;
        releaseQueued();
        channel.close();
    }

    private void releaseQueued() {
        queuedRequests = 0;
        HttpObject m;
        while ((m = queued.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
