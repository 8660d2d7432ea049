package river.proxy;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import river.upstream.Peer;
import river.upstream.PeerSelector;
import river.upstream.UpstreamConnection;
import river.upstream.UpstreamListener;

/**
 * The upstream half of one exchange: borrowing or opening its connection, sending the request head
 * and body up, taking the origin's events back (1xx heads, the final head, failures, writability),
 * streaming the response body on to the client at the pace the client takes it, and finally
 * releasing, draining or discarding the connection. It owns the connection, what is queued on either
 * side of it, and the rule that repeats a request a stale pooled connection never delivered. It holds
 * no lifecycle state: each step is decided by {@link Exchange}, which it calls back on the client's
 * event loop. Apart so that Exchange reads as the request's lifecycle and this as the plumbing of one
 * connection; one per exchange, created with it, and the listener the pool is given.
 */
final class UpstreamLeg implements UpstreamListener {
    private final Exchange exchange;
    private final ProxyEngine engine;
    private final RequestContext ctx;
    private final Downstream downstream;
    private final EventLoop loop;
    private final ModulePhases phases;
    private final Deadlines deadlines;
    private final PeerAttempts attempts;
    private final boolean webSocket;
    private final boolean grpc;

    /** The most request body bytes queued behind a head a module holds, before reading ahead pauses. */
    static final int READ_AHEAD_BYTES = 64 * 1024;

    private UpstreamConnection connection;
    /** Bytes in {@link #pendingBody}; reading ahead stops at {@link #READ_AHEAD_BYTES}. */
    private int pendingBytes;
    /** A module holds the request head: the body is read before it goes. */
    private boolean readingAhead;
    /** Request body pieces that passed the body phases before the request head went upstream. */
    private ArrayDeque<HttpContent> pendingBody;
    /** Response body pieces that arrived while the response head was still in its phases. */
    private ArrayDeque<HttpContent> pendingResponse;
    private boolean requestSent;
    private boolean requestBodyStarted;
    /**
     * The request's end went up (its last piece, or the end a bodiless head carries). Not the same as
     * the client having sent it all: a module may hold the last piece after the head went.
     */
    private boolean requestEnded;
    /** A 1xx head came: its end-of-message is not part of the final response. */
    private boolean informationalTail;
    private boolean responseBodyFollows;
    private boolean reusable;
    private boolean retriedStale;

    UpstreamLeg(Exchange exchange, ProxyEngine engine, Downstream downstream, ModulePhases phases, Deadlines deadlines, PeerAttempts attempts,
            boolean grpc) {
        this.exchange = exchange;
        this.engine = engine;
        this.ctx = exchange.context();
        this.downstream = downstream;
        this.loop = downstream.eventLoop();
        this.phases = phases;
        this.deadlines = deadlines;
        this.attempts = attempts;
        this.webSocket = WebSocketUpgrade.isRequested(ctx.request());
        this.grpc = grpc;
    }

    @Override
    public InetSocketAddress proxiedClient() {
        return ctx.client();
    }

    @Override
    public InetSocketAddress proxiedDestination() {
        return downstream.localAddress();
    }

    // ---- connecting -------------------------------------------------------------------------------

    /** Borrows or opens a connection to {@code peer}; ends in the upstream-request phase or a failure. */
    void connect(Peer peer) {
        ctx.attemptStartNanos = engine.clock().nanoTime() - ctx.startNanos();
        // A protocol switch takes its connection for good: open a fresh one, on this event loop.
        // A request with a body streams it on its own event loop's connections only.
        UpstreamConnection idle = webSocket || grpc ? null : engine.pool().takeIdle(peer, loop, this, exchange.requestFullyRead());
        if (idle != null) {
            onConnected(idle);
            return;
        }
        Future<UpstreamConnection> connecting = engine.pool().connect(peer, loop, this, webSocket);
        int at = exchange.epoch();
        connecting.addListener(f -> onConnectDone(at, connecting));
    }

    private void onConnectDone(int at, Future<UpstreamConnection> acquired) {
        try {
            boolean current = exchange.state() == ExchangeState.CONNECTING && at == exchange.epoch();
            if (acquired.isSuccess()) {
                if (current) {
                    onConnected(acquired.getNow());
                } else {
                    acquired.getNow().release();
                }
                return;
            }
            Peer peer = ctx.peer;
            engine.log().debug("connect to {} failed: {}", peer, acquired.cause().toString());
            PeerSelector upstreams = ctx.upstreams;
            if (upstreams != null) {
                upstreams.report(peer, false);
            }
            if (current) {
                exchange.nextAttempt(acquired.cause());
            }
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    private void onConnected(UpstreamConnection acquired) {
        if (grpc && !acquired.isHttp2()) {
            acquired.release();
            exchange.fail(ProxyError.of(ProxyError.Kind.NEEDS_HTTP2));
            return;
        }
        connection = acquired;
        ctx.upstreamReused = acquired.reused();
        ctx.connectNanos = engine.clock().nanoTime() - ctx.startNanos();
        HttpRequest upstreamRequest = ForwardedHeaders.upstreamRequest(ctx.request(), ctx.socketPeer(), ctx.secure(), ctx.peer.label(),
                acquired.isHttp2());
        if (webSocket) {
            WebSocketUpgrade.askUpstream(upstreamRequest.headers());
        }
        phases.runHead(ModulePhases.Head.UPSTREAM_REQUEST, 0, upstreamRequest);
    }

    // ---- the request going up ---------------------------------------------------------------------

    /** Writes the request head and the body queued behind it; returns whether the whole request is now upstream. */
    boolean sendHead(HttpRequest upstreamRequest) {
        Channel ch = connection.channel();
        ch.write(upstreamRequest, ch.voidPromise());
        requestEnded = upstreamRequest instanceof LastHttpContent;
        boolean lastSent = exchange.requestFullyRead() && !phases.holding(true);
        if (lastSent && !requestBodyStarted && (pendingBody == null || pendingBody.isEmpty())) {
            // The encoder needs an end-of-message even for a request without a body.
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
            requestEnded = true;
        }
        requestSent = true;
        readingAhead = false;
        pendingBytes = 0;
        HttpContent chunk;
        while (pendingBody != null && (chunk = pendingBody.poll()) != null) {
            writeBody(chunk);
        }
        ch.flush();
        return lastSent;
    }

    /** Sends a request body piece, or queues it while the head is in its phase; returns whether it went. */
    boolean sendRequestBody(HttpContent chunk) {
        ctx.bytesIn += chunk.content().readableBytes();
        if (!requestSent) {
            if (pendingBody == null) {
                pendingBody = new ArrayDeque<>(4);
            }
            pendingBody.add(chunk);
            pendingBytes += chunk.content().readableBytes();
            if (readingAhead && pendingBytes >= READ_AHEAD_BYTES) {
                downstream.setReading(false); // until the head goes
            }
            return false;
        }
        boolean last = chunk instanceof LastHttpContent;
        writeBody(chunk);
        Channel ch = connection.channel();
        ch.flush();
        if (!last && !ch.isWritable()) {
            downstream.setReading(false);
        }
        return true;
    }

    private void writeBody(HttpContent chunk) {
        requestBodyStarted |= chunk.content().isReadable();
        requestEnded |= chunk instanceof LastHttpContent;
        connection.channel().write(chunk, connection.channel().voidPromise());
    }

    boolean writable() {
        return connection.channel().isWritable();
    }

    /** Reads the request body while a module holds its head, up to {@link #READ_AHEAD_BYTES} queued. */
    void readAhead() {
        readingAhead = true;
        if (!requestSent && !phases.sourceHeld(true)) {
            downstream.setReading(pendingBytes < READ_AHEAD_BYTES);
        }
    }

    /** Pauses or resumes the source of a direction whose body a module holds. */
    void holdSource(boolean toUpstream, boolean held) {
        if (toUpstream) {
            if (!held && readingAhead && !requestSent && !exchange.requestFullyRead()) {
                downstream.setReading(pendingBytes < READ_AHEAD_BYTES);
            } else if (held || (requestSent && connection != null && !exchange.requestFullyRead())) {
                downstream.setReading(!held && connection.channel().isWritable());
            }
        } else if (connection != null) {
            connection.channel().config().setAutoRead(!held && downstream.isWritable());
        }
    }

    /** The client's connection drained: a streaming response no module holds is read again. */
    void clientWritable() {
        if (connection != null && exchange.state() == ExchangeState.STREAMING && !phases.sourceHeld(false)) {
            connection.channel().config().setAutoRead(true);
        }
    }

    // ---- the origin's events ----------------------------------------------------------------------

    @Override
    public void onUpstreamMessage(UpstreamConnection from, HttpObject message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamMessage(from, message));
            return;
        }
        try {
            if (exchange.state() == ExchangeState.DONE || from != connection) {
                ReferenceCountUtil.release(message);
            } else if (message.decoderResult().isFailure()) {
                ReferenceCountUtil.release(message);
                exchange.fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE, message.decoderResult().cause()));
            } else {
                if (message instanceof HttpResponse response) {
                    onResponseHead(response);
                }
                if (message instanceof HttpContent content) {
                    onResponseContent(content);
                }
            }
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    private void onResponseHead(HttpResponse response) {
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            informationalTail = true;
            if (code == 101 && !WebSocketUpgrade.accepted(webSocket, response)) {
                exchange.fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE));
            } else if (code == 101) {
                deadlines.responseArrived();
                WebSocketUpgrade.prepareForClient(response);
                exchange.responseHead(response, true);
            } else if (!downstream.isHttp10()) {
                ForwardedHeaders.removeHopByHop(response.headers());
                downstream.sendInformational(response);
            }
            return;
        }
        deadlines.responseArrived();
        ctx.upstreamStatus = code;
        ctx.upstreamHeadNanos = engine.clock().nanoTime() - ctx.startNanos();
        if (ctx.upstreams != null) {
            ctx.upstreams.report(ctx.peer, true);
        }
        responseBodyFollows = !ctx.headRequest() && code != 204 && code != 304;
        reusable = UpstreamConnection.reusableAfter(response, responseBodyFollows);
        exchange.responseHead(response, false);
    }

    private void onResponseContent(HttpContent content) {
        ExchangeState state = exchange.state();
        if (informationalTail) {
            // The end-of-message of a 1xx head: not part of the final response.
            informationalTail = false;
            content.release();
        } else if (state == ExchangeState.HEAD_PHASES) {
            if (pendingResponse == null) {
                pendingResponse = new ArrayDeque<>(4);
            }
            pendingResponse.add(content);
            connection.channel().config().setAutoRead(false);
        } else if (state == ExchangeState.STREAMING) {
            phases.runBody(false, content);
        } else {
            content.release();
        }
    }

    boolean responseBodyFollows() {
        return responseBodyFollows;
    }

    /** The response head went to the client: the body pieces that came meanwhile go through their phases, then reading resumes. */
    void streamResponse() {
        HttpContent queued;
        while (pendingResponse != null && exchange.state() == ExchangeState.STREAMING && (queued = pendingResponse.poll()) != null) {
            phases.runBody(false, queued);
        }
        if (exchange.state() == ExchangeState.STREAMING && !phases.sourceHeld(false)) {
            holdSource(false, false);
        }
    }

    /**
     * A response body piece out of its phases goes to the client; reading pauses while the client's
     * connection is full, and the last piece lets the connection go.
     */
    void sendResponseBody(HttpContent chunk) {
        ctx.bytesOut += chunk.content().readableBytes();
        downstream.sendBody(chunk);
        if (chunk instanceof LastHttpContent) {
            UpstreamConnection c = connection;
            connection = null;
            if (reusable && requestEnded) { // a connection whose request did not end is mid-message
                c.release();
            } else {
                c.discard();
            }
            exchange.complete();
            return;
        }
        long now = engine.clock().nanoTime();
        deadlines.bodyMoved(now, ctx.peer, false);
        if (!downstream.isWritable()) {
            if (connection != null) {
                connection.channel().config().setAutoRead(false);
            }
            deadlines.clientStalled(now);
        }
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection from, Throwable cause) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamFailure(from, cause));
            return;
        }
        try {
            ExchangeState state = exchange.state();
            if (state == ExchangeState.DONE || from != connection) {
                return;
            }
            engine.log().debug("upstream {} failed: {}", ctx.peer, cause.toString());
            boolean unanswered = state == ExchangeState.CONNECTING || state == ExchangeState.SENDING || state == ExchangeState.AWAITING_HEAD;
            if (unanswered && (ctx.upstreamReused || from.refusedByPeer()) && !requestBodyStarted && !retriedStale
                    && (pendingBody == null || pendingBody.isEmpty()) && !phases.holding(true)) {
                // A pooled connection the origin closed just as we used it, or a stream the origin
                // refused: the request was not processed, so one fresh attempt is safe.
                discard();
                retriedStale = true;
                requestSent = false;
                deadlines.responseArrived();
                attempts.forgetLast(ctx);
                exchange.nextAttempt(null);
                return;
            }
            exchange.fail(ProxyError.of(ProxyError.Kind.UPSTREAM_CLOSED, cause));
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection from, boolean writable) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamWritabilityChanged(from, writable));
            return;
        }
        if (exchange.state() != ExchangeState.DONE && from == connection && !exchange.requestFullyRead() && requestSent && !phases.sourceHeld(true)) {
            downstream.setReading(writable);
        }
    }

    // ---- letting the connection go ----------------------------------------------------------------

    /**
     * The client left: an origin answering a complete request may finish it, and the connection is
     * kept; any other connection is closed.
     *
     * @param headSeen whether the response head arrived (so whether the connection is reusable is known)
     */
    void clientLeft(boolean headSeen) {
        if (connection != null && requestSent && requestEnded && !connection.isHttp2()) {
            connection.drainThenRelease(headSeen ? reusable : null, ctx.headRequest());
            connection = null;
        }
        discard();
    }

    /** Hands the connection over for good (to a tunnel). */
    UpstreamConnection detach() {
        UpstreamConnection c = connection;
        connection = null;
        return c;
    }

    /** The exchange failed: an error that blames the upstream counts against the peer, and the connection goes. */
    void failed(ProxyError error) {
        if (error.blamesUpstream() && error.source() != ProxyError.Source.UPSTREAM_CONNECT && ctx.upstreams != null) {
            ctx.upstreams.report(ctx.peer, false); // connect failures were reported as they happened
        }
        discard();
    }

    /** Closes the connection, if there is one: nothing more of this exchange goes over it. */
    void discard() {
        if (connection != null) {
            connection.discard();
            connection = null;
        }
    }

    /** Releases every body piece still queued, in either direction. */
    void releaseQueues() {
        pendingBytes = 0;
        ModulePhases.releaseAll(pendingBody);
        ModulePhases.releaseAll(pendingResponse);
    }
}
