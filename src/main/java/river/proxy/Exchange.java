package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import river.upstream.Peer;
import river.upstream.UpstreamConnection;
import river.upstream.UpstreamListener;

/**
 * One request from arrival to logging: runs the phases, selects a peer, borrows an upstream
 * connection, and streams both bodies with backpressure. Confined to the client's event loop; events
 * from an upstream connection living on another loop are handed over to it first.
 */
public final class Exchange implements UpstreamListener {
    private static final int MAX_ATTEMPTS = 3;
    /** The minimum send rate is judged only after the response has had this long. */
    private static final long MIN_RATE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final ProxyEngine engine;
    private final Downstream downstream;
    private final EventLoop loop;
    private final RequestContext ctx;
    /** Request body pieces that arrived before the upstream connection; created only when one does. */
    private ArrayDeque<HttpContent> pendingBody;

    private UpstreamConnection upstream;
    private boolean requestFullyRead;
    private boolean requestSent;
    private boolean requestBodyStarted;
    private boolean informationalTail;
    private boolean headSent;
    private boolean upstreamReusable;
    private boolean finished;
    private boolean retriedStale;
    private boolean localResponse;
    private boolean webSocketUpgrade;
    /** The peers this request was sent to, so that a retry goes elsewhere. */
    private List<Peer> tried;
    /** A gRPC call: it needs HTTP/2 to the upstream, and failures are answered in gRPC's terms. */
    private boolean grpc;
    /** When the response head must have arrived (System.nanoTime), or 0. */
    private long responseDeadline;
    private boolean watchingBody;
    private long lastBodyActivity;
    /** Since when the client has not been taking the response (its connection not writable), or 0. */
    private long clientStalledSince;
    /** When the response head went to the client (System.nanoTime), for the minimum send rate. */
    private long headSentAt;

    Exchange(ProxyEngine engine, Downstream downstream, HttpRequest request, InetSocketAddress client, boolean secure) {
        this.engine = engine;
        this.downstream = downstream;
        this.loop = downstream.eventLoop();
        this.ctx = new RequestContext(engine.service(), client, secure, request);
    }

    public RequestContext context() {
        return ctx;
    }

    @Override
    public InetSocketAddress proxiedClient() {
        return ctx.client();
    }

    @Override
    public InetSocketAddress proxiedDestination() {
        return downstream.localAddress();
    }

    // ---- request phases -------------------------------------------------------------------------

    /**
     * Starts the request phases; called once the request head has arrived.
     *
     * @param bodyless whether the request has no body (the codec then delivers no body pieces)
     */
    public void start(boolean bodyless) {
        requestFullyRead = bodyless;
        webSocketUpgrade = bodyless && isWebSocketUpgrade(ctx.request());
        grpc = isGrpc(ctx.request());
        if (!bodyless) {
            // Hold the body until we know where it goes.
            downstream.setReading(false);
        }
        runRequestPhases(0);
    }

    private void runRequestPhases(int from) {
        ProxyModule[] modules = engine.modules();
        for (int i = from; i < modules.length; i++) {
            CompletionStage<Verdict> stage;
            try {
                stage = modules[i].onRequest(ctx);
            } catch (RuntimeException e) {
                engine.log().warn("request phase of {} failed", modules[i].getClass().getSimpleName(), e);
                fail(ProxyError.INTERNAL);
                return;
            }
            if (stage == Verdict.CONTINUE_NOW) {
                continue;
            }
            var future = stage.toCompletableFuture();
            if (future.isDone() && !future.isCompletedExceptionally()) {
                if (!handleVerdict(future.join())) {
                    return;
                }
                continue;
            }
            int next = i + 1;
            stage.whenComplete((verdict, error) -> loop.execute(() -> {
                if (finished) {
                    return;
                }
                if (error != null) {
                    engine.log().warn("request phase failed", error);
                    fail(ProxyError.INTERNAL);
                } else if (handleVerdict(verdict)) {
                    runRequestPhases(next);
                }
            }));
            return;
        }
        proxy();
    }

    /** Returns true to continue with the next phase. */
    private boolean handleVerdict(Verdict verdict) {
        if (verdict instanceof Verdict.Respond respond) {
            respondLocally(respond);
            return false;
        }
        return true;
    }

    private void respondLocally(Verdict.Respond respond) {
        localResponse = true;
        HttpResponse head = respond.head();
        boolean isHead = ctx.request().method().equals(HttpMethod.HEAD);
        for (ProxyModule m : engine.modules()) {
            m.onResponse(ctx, head);
        }
        ctx.status = head.status();
        ctx.responseHeadNanos = System.nanoTime() - ctx.startNanos();
        headSent = true;
        Verdict.Body body = respond.body();
        if (body instanceof Verdict.Body.FileRange file && !isHead) {
            downstream.sendHead(head, true);
            ctx.bytesOut += file.length();
            downstream.sendFile(file.file(), file.offset(), file.length());
        } else {
            if (body instanceof Verdict.Body.FileRange file) {
                closeQuietly(file.file());
            }
            ByteBuf content = body instanceof Verdict.Body.Bytes bytes ? bytes.content() : Unpooled.EMPTY_BUFFER;
            boolean bodyFollows = !isHead && !(body instanceof Verdict.Body.Empty);
            downstream.sendHead(head, bodyFollows);
            if (bodyFollows) {
                ctx.bytesOut += content.readableBytes();
                downstream.sendBody(new DefaultLastHttpContent(content));
            } else {
                content.release();
                downstream.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
            }
        }
        complete();
    }

    // ---- connecting -----------------------------------------------------------------------------

    private void proxy() {
        if (ctx.upstreams == null) {
            ctx.upstreams = engine.selector();
        }
        if (ctx.upstreams == null) {
            fail(ProxyError.NO_PEER);
            return;
        }
        connect();
    }

    private void connect() {
        if (ctx.attempts > 0 && tried == null) {
            // A retry: from now on remember every peer tried (the first attempt needs no list).
            tried = new ArrayList<>(MAX_ATTEMPTS);
            tried.add(ctx.peer);
        }
        Peer peer = ctx.upstreams.select(ctx.path(), ctx.client(), tried);
        if (peer == null) {
            fail(ProxyError.NO_PEER);
            return;
        }
        ctx.attempts++;
        ctx.peer = peer;
        if (tried != null) {
            tried.add(peer);
        }
        if (grpc && (peer.tls() == null || !peer.tls().offer().mayUseHttp2())) {
            fail(ProxyError.NEEDS_HTTP2);
            return;
        }
        // A protocol switch takes its connection for good: open a fresh one, on this event loop.
        // A request with a body streams it on its own event loop's connections only.
        UpstreamConnection idle = webSocketUpgrade || grpc ? null : engine.pool().takeIdle(peer, loop, this, requestFullyRead);
        if (idle != null) {
            onConnected(idle);
            return;
        }
        Future<UpstreamConnection> connecting = engine.pool().connect(peer, loop, this, webSocketUpgrade);
        connecting.addListener(f -> onConnectDone(connecting));
    }

    private void onConnectDone(Future<UpstreamConnection> acquired) {
        if (!acquired.isSuccess()) {
            ProxyError error = ProxyError.ofConnectFailure(acquired.cause());
            engine.log().debug("connect to {} failed: {}", ctx.peer, acquired.cause().toString());
            ctx.upstreams.report(ctx.peer, false);
            if (finished) {
                return;
            }
            int limit = Math.min(MAX_ATTEMPTS, ctx.upstreams.size());
            if (error.retryOnAnotherPeer() && ctx.attempts < limit) {
                connect();
            } else {
                fail(error);
            }
            return;
        }
        onConnected(acquired.getNow());
    }

    private void onConnected(UpstreamConnection connection) {
        if (finished) {
            connection.release();
            return;
        }
        if (grpc && !connection.isHttp2()) {
            connection.release();
            fail(ProxyError.NEEDS_HTTP2);
            return;
        }
        upstream = connection;
        ctx.upstreamReused = connection.reused();
        long now = System.nanoTime();
        ctx.connectNanos = now - ctx.startNanos();
        sendRequestHead(now);
    }

    /** Sends the request head (and what body is queued); {@code now} is System.nanoTime, read once per event. */
    private void sendRequestHead(long now) {
        HttpRequest original = ctx.request();
        boolean chunked = HttpUtil.isTransferEncodingChunked(original);
        HttpHeaders headers = ForwardedHeaders.forUpstream(original.headers(), ctx.socketPeer(), ctx.secure());
        if (chunked) {
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (original.protocolVersion().equals(HttpVersion.HTTP_1_0) && !headers.contains(HttpHeaderNames.HOST)) {
            headers.set(HttpHeaderNames.HOST, ctx.peer.label());
        }
        if (upstream.isHttp2() && original.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true)) {
            // The one TE value HTTP/2 allows, and gRPC servers expect it.
            headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (webSocketUpgrade) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        }
        HttpRequest upstreamRequest = new DefaultHttpRequest(HttpVersion.HTTP_1_1, original.method(), original.uri(), headers);
        for (ProxyModule m : engine.modules()) {
            m.onUpstreamRequest(ctx, upstreamRequest);
        }
        Channel ch = upstream.channel();
        ch.write(upstreamRequest, ch.voidPromise());
        if (requestFullyRead && noPendingBody() && !requestBodyStarted) {
            // The encoder needs an end-of-message even for a request without a body.
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        requestSent = true;
        HttpContent chunk;
        while (pendingBody != null && (chunk = pendingBody.poll()) != null) {
            writeBodyUpstream(chunk);
        }
        ch.flush();
        int readMs = ctx.peer.timeouts().readMs();
        responseDeadline = now + TimeUnit.MILLISECONDS.toNanos(readMs > 0 ? readMs : engine.settings().upstreamResponseTimeoutMs());
        downstream.wakeAt(responseDeadline);
        if (!requestFullyRead) {
            downstream.setReading(ch.isWritable());
            touchBody(now);
        }
    }

    // ---- request body ---------------------------------------------------------------------------

    /** A request body piece from the client. */
    public void onRequestBody(HttpContent content) {
        if (finished || localResponse) {
            content.release();
            if (content instanceof LastHttpContent) {
                requestFullyRead = true;
            }
            return;
        }
        HttpContent chunk = content;
        boolean last = content instanceof LastHttpContent;
        try {
            for (ProxyModule m : engine.modules()) {
                chunk = m.onRequestBody(ctx, chunk);
            }
        } catch (Rejected r) {
            chunk.release();
            requestFullyRead |= last;
            reject(r);
            return;
        }
        ctx.bytesIn += chunk.content().readableBytes();
        if (chunk instanceof LastHttpContent) {
            requestFullyRead = true;
        }
        if (!requestSent) {
            if (pendingBody == null) {
                pendingBody = new ArrayDeque<>(4);
            }
            pendingBody.add(chunk);
            return;
        }
        writeBodyUpstream(chunk);
        Channel ch = upstream.channel();
        ch.flush();
        if (!requestFullyRead && !ch.isWritable()) {
            downstream.setReading(false);
        }
        touchBody();
    }

    private void writeBodyUpstream(HttpContent chunk) {
        requestBodyStarted |= chunk.content().isReadable();
        upstream.channel().write(chunk, upstream.channel().voidPromise());
    }

    /** The request body's framing turned out to be invalid: nothing more of it can be trusted. */
    public void onRequestBodyInvalid() {
        if (finished) {
            return;
        }
        fail(ProxyError.BAD_REQUEST_BODY);
    }

    /** The client's connection can take more data again. */
    public void onDownstreamWritable() {
        clientStalledSince = 0;
        if (upstream != null && headSent && !finished) {
            upstream.channel().config().setAutoRead(true);
        }
    }

    /** The client went away before the exchange ended. */
    public void onDownstreamClosed() {
        if (finished) {
            return;
        }
        if (ctx.status == null) {
            ctx.status = HttpResponseStatus.valueOf(499, "Client Closed Request");
        }
        if (upstream != null) {
            if (requestSent && requestFullyRead && !upstream.isHttp2()) {
                // The origin is answering a complete request: let it finish and keep the connection.
                upstream.drainThenRelease(headSent ? upstreamReusable : null, ctx.request().method().equals(HttpMethod.HEAD));
            } else {
                upstream.discard();
            }
            upstream = null;
        }
        finish();
    }

    // ---- upstream events ------------------------------------------------------------------------

    @Override
    public void onUpstreamMessage(UpstreamConnection connection, HttpObject message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamMessage(connection, message));
            return;
        }
        if (finished || connection != upstream) {
            ReferenceCountUtil.release(message);
            return;
        }
        if (message.decoderResult().isFailure()) {
            ReferenceCountUtil.release(message);
            upstream.discard();
            upstream = null;
            fail(ProxyError.BAD_RESPONSE);
            return;
        }
        if (message instanceof HttpResponse response) {
            onResponseHead(response);
        }
        if (message instanceof HttpContent content) {
            if (informationalTail) {
                informationalTail = false;
                content.release();
                return;
            }
            onResponseBody(content);
        }
    }

    private void onResponseHead(HttpResponse response) {
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            informationalTail = true;
            if (code == 101) {
                switchProtocols(response);
                return;
            }
            if (!downstream.isHttp10()) {
                ForwardedHeaders.removeHopByHop(response.headers());
                downstream.sendInformational(response);
            }
            return;
        }
        responseDeadline = 0;
        ctx.upstreams.report(ctx.peer, true);
        boolean bodyFollows = !ctx.request().method().equals(HttpMethod.HEAD) && code != 204 && code != 304;
        upstreamReusable = UpstreamConnection.reusableAfter(response, bodyFollows);
        try {
            for (ProxyModule m : engine.modules()) {
                m.onUpstreamResponse(ctx, response);
            }
        } catch (Rejected r) {
            reject(r);
            return;
        }
        HttpHeaders headers = response.headers();
        ForwardedHeaders.removeHopByHop(headers);
        headers.add(HttpHeaderNames.VIA, ForwardedHeaders.VIA_VALUE);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        for (ProxyModule m : engine.modules()) {
            m.onResponse(ctx, response);
        }
        ctx.status = response.status();
        long now = System.nanoTime();
        ctx.responseHeadNanos = now - ctx.startNanos();
        headSent = true;
        headSentAt = now;
        downstream.sendHead(response, bodyFollows);
        touchBody(now);
    }

    /** The origin accepted a WebSocket upgrade: both connections become one byte tunnel. */
    private void switchProtocols(HttpResponse response) {
        String upgrade = response.headers().get(HttpHeaderNames.UPGRADE);
        if (!webSocketUpgrade || upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            upstream.discard();
            upstream = null;
            fail(ProxyError.BAD_RESPONSE);
            return;
        }
        responseDeadline = 0;
        ForwardedHeaders.removeHopByHop(response.headers());
        response.headers()
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                .add(HttpHeaderNames.VIA, ForwardedHeaders.VIA_VALUE);
        for (ProxyModule m : engine.modules()) {
            m.onResponse(ctx, response);
        }
        ctx.status = response.status();
        ctx.responseHeadNanos = System.nanoTime() - ctx.startNanos();
        headSent = true;
        UpstreamConnection connection = upstream;
        upstream = null;
        long idle = engine.settings().tunnelIdleTimeoutMs();
        downstream.switchToTunnel(response, client -> connection.takeOverAsTunnel(Tunnel.relayTo(client), Tunnel.idleWatch(idle)), idle);
        finish();
    }

    /** A gRPC call (its content type is application/grpc or application/grpc+…). */
    private static boolean isGrpc(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /** A GET asking to switch to WebSocket (RFC 6455 §4.1). */
    private static boolean isWebSocketUpgrade(HttpRequest request) {
        if (!request.method().equals(HttpMethod.GET)) {
            return false;
        }
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.equalsIgnoreCase("websocket")
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    private void onResponseBody(HttpContent content) {
        if (!headSent) {
            content.release();
            return;
        }
        HttpContent chunk = content;
        try {
            for (ProxyModule m : engine.modules()) {
                chunk = m.onResponseBody(ctx, chunk);
            }
        } catch (Rejected r) {
            chunk.release();
            reject(r);
            return;
        }
        ctx.bytesOut += chunk.content().readableBytes();
        boolean last = chunk instanceof LastHttpContent;
        downstream.sendBody(chunk);
        if (last) {
            UpstreamConnection c = upstream;
            upstream = null;
            if (upstreamReusable && requestFullyRead) {
                c.release();
            } else {
                c.discard();
            }
            complete();
            return;
        }
        touchBody();
        if (!downstream.isWritable()) {
            upstream.channel().config().setAutoRead(false);
            clientStalled();
        }
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection connection, Throwable cause) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamFailure(connection, cause));
            return;
        }
        if (finished || connection != upstream) {
            return;
        }
        upstream.discard();
        upstream = null;
        engine.log().debug("upstream {} failed: {}", ctx.peer, cause.toString());
        if (!headSent && (ctx.upstreamReused || connection.refusedByPeer()) && !requestBodyStarted && !retriedStale && noPendingBody()) {
            // A pooled connection the origin closed just as we used it, or a stream the origin
            // refused: the request was not processed (no response, no body sent), so one fresh
            // attempt is safe.
            retriedStale = true;
            requestSent = false;
            responseDeadline = 0;
            ctx.attempts--;
            if (tried != null) {
                tried.remove(tried.size() - 1); // the peer did nothing wrong: it may serve the retry
            }
            connect();
            return;
        }
        fail(ProxyError.UPSTREAM_CLOSED);
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection connection, boolean writable) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamWritabilityChanged(connection, writable));
            return;
        }
        if (!finished && connection == upstream && !requestFullyRead && requestSent) {
            downstream.setReading(writable);
        }
    }

    // ---- timeouts -------------------------------------------------------------------------------

    private void onResponseTimeout() {
        if (finished || headSent) {
            return;
        }
        if (upstream != null) {
            upstream.discard();
            upstream = null;
        }
        fail(ProxyError.UPSTREAM_TIMEOUT);
    }

    private void touchBody() {
        touchBody(System.nanoTime());
    }

    private void touchBody(long now) {
        lastBodyActivity = now;
        if (!watchingBody) {
            watchingBody = true;
            downstream.wakeAt(lastBodyActivity + bodyIdleNanos());
        }
    }

    /** The client stopped taking the response: watch it, if the service bounds that at all. */
    private void clientStalled() {
        long write = engine.settings().clientWriteTimeoutMs();
        if (clientStalledSince == 0 && (write > 0 || engine.settings().minSendRateBytes() > 0)) {
            clientStalledSince = System.nanoTime();
            long check = write > 0 ? Math.min(write, 1000) : 1000;
            downstream.wakeAt(clientStalledSince + TimeUnit.MILLISECONDS.toNanos(check));
        }
    }

    /**
     * Whether a client holding the response back has gone past overload's write-timeout-ms or below
     * its min-send-rate-bytes (a slow reader: slow loris in the response direction).
     */
    private boolean clientTooSlow(long now) {
        if (clientStalledSince == 0) {
            return false;
        }
        long write = engine.settings().clientWriteTimeoutMs();
        if (write > 0 && now - clientStalledSince >= TimeUnit.MILLISECONDS.toNanos(write)) {
            return true;
        }
        long minRate = engine.settings().minSendRateBytes();
        long elapsed = now - headSentAt;
        return minRate > 0 && headSentAt != 0 && elapsed > MIN_RATE_GRACE_NANOS
                && ctx.bytesOut * 1_000_000_000L / elapsed < minRate;
    }

    /**
     * How long a body may stall: the connector's read timeout while the response streams, its write
     * timeout while the request body is still going up, else the service's body timeout.
     */
    private long bodyIdleNanos() {
        int ms = 0;
        if (ctx.peer != null) {
            ms = requestFullyRead ? ctx.peer.timeouts().readMs() : ctx.peer.timeouts().writeMs();
        }
        return TimeUnit.MILLISECONDS.toNanos(ms > 0 ? ms : engine.settings().bodyIdleTimeoutMs());
    }

    /**
     * Checks this exchange's deadlines; called by the client connection's timer. Returns the next
     * deadline (System.nanoTime), or 0 when none is pending. Deadlines are plain fields, so
     * setting or moving one costs no timer operation on the request path.
     */
    public long onTick(long now) {
        if (finished) {
            return 0;
        }
        if (responseDeadline != 0 && now - responseDeadline >= 0) {
            onResponseTimeout();
            return 0;
        }
        if (clientTooSlow(now)) {
            engine.log().debug("client {} too slow to take the response; disconnecting", ctx.client());
            ctx.error = ProxyError.BODY_TIMEOUT;
            if (upstream != null) {
                upstream.discard();
                upstream = null;
            }
            downstream.abort();
            finish();
            return 0;
        }
        long next = responseDeadline;
        if (clientStalledSince != 0) {
            long recheck = now + TimeUnit.SECONDS.toNanos(1);
            next = next == 0 || recheck - next < 0 ? recheck : next;
        }
        if (watchingBody) {
            long bodyDeadline = lastBodyActivity + bodyIdleNanos();
            boolean waitingForHead = !headSent && requestFullyRead;
            if (!waitingForHead && now - bodyDeadline >= 0) {
                if (upstream != null) {
                    upstream.discard();
                    upstream = null;
                }
                fail(ProxyError.BODY_TIMEOUT);
                return 0;
            }
            if (!waitingForHead && (next == 0 || bodyDeadline - next < 0)) {
                next = bodyDeadline;
            }
        }
        return next;
    }

    // ---- endings --------------------------------------------------------------------------------

    private void fail(ProxyError error) {
        if (finished) {
            return;
        }
        ctx.error = error;
        if (error.countsAgainstPeer() && ctx.peer != null && ctx.upstreams != null && error != ProxyError.CONNECT_FAILED
                && error != ProxyError.CONNECT_TIMEOUT) {
            // Connect failures were counted when they happened.
            ctx.upstreams.report(ctx.peer, false);
        }
        if (upstream != null) {
            upstream.discard();
            upstream = null;
        }
        if (headSent) {
            downstream.abort();
            finish();
            return;
        }
        if (grpc) {
            failGrpc(error);
            return;
        }
        HttpResponseStatus status = error.status();
        byte[] text = (status.code() + " " + status.reasonPhrase() + ": " + error.description() + "\n").getBytes(StandardCharsets.US_ASCII);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
        for (ProxyModule m : engine.modules()) {
            m.onResponse(ctx, head);
        }
        ctx.status = status;
        ctx.responseHeadNanos = System.nanoTime() - ctx.startNanos();
        headSent = true;
        ctx.bytesOut += text.length;
        downstream.sendHead(head, !ctx.request().method().equals(HttpMethod.HEAD));
        downstream.sendBody(ctx.request().method().equals(HttpMethod.HEAD) ? LastHttpContent.EMPTY_LAST_CONTENT
                : new DefaultLastHttpContent(Unpooled.wrappedBuffer(text)));
        complete();
    }

    /**
     * A module refused what was passing through: the client gets the module's answer if the response
     * has not started, else the response is cut short. The upstream connection is not reused.
     */
    private void reject(Rejected r) {
        engine.log().debug("{} {}: {}", ctx.request().method(), ctx.path(), r.getMessage());
        if (upstream != null) {
            upstream.discard();
            upstream = null;
        }
        if (headSent || finished) {
            if (!finished) {
                downstream.abort();
                finish();
            }
            return;
        }
        respondLocally(Verdict.text(r.status(), r.body()));
    }

    /**
     * Answers a gRPC client the way gRPC reports errors: HTTP 200 with the status in trailers (the
     * HTTP status alone would give the client only a generic error).
     */
    private void failGrpc(ProxyError error) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
        for (ProxyModule m : engine.modules()) {
            m.onResponse(ctx, head);
        }
        ctx.status = error.status();
        ctx.responseHeadNanos = System.nanoTime() - ctx.startNanos();
        headSent = true;
        LastHttpContent trailers = new DefaultLastHttpContent();
        trailers.trailingHeaders()
                .setInt("grpc-status", error.grpcStatus())
                .set("grpc-message", "river: " + error.description());
        downstream.sendHead(head, true);
        downstream.sendBody(trailers);
        complete();
    }

    private void complete() {
        releasePending();
        downstream.responseComplete(requestFullyRead);
        finish();
    }

    /** Whether the whole request body has been read from the client. */
    public boolean requestFullyRead() {
        return requestFullyRead;
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        releasePending();
        ctx.endNanos = System.nanoTime() - ctx.startNanos();
        for (ProxyModule m : engine.modules()) {
            try {
                m.onLogging(ctx);
            } catch (RuntimeException e) {
                engine.log().warn("logging phase failed", e);
            }
        }
    }

    private void releasePending() {
        HttpContent c;
        while (pendingBody != null && (c = pendingBody.poll()) != null) {
            c.release();
        }
    }

    private boolean noPendingBody() {
        return pendingBody == null || pendingBody.isEmpty();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (java.io.IOException ignored) {
            // Nothing to do: the file was only read.
        }
    }
}
