package river.proxy;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import river.upstream.Peer;
import river.upstream.PeerSelector;
import river.upstream.UpstreamConnection;
import river.upstream.UpstreamListener;

/**
 * One request from arrival to logging, as a state machine driven by events: the client's head, body
 * and departure; the upstream's connection, head, body and failure; the timer; writability. Every
 * event is handled on the client's event loop (upstream events from another loop are handed over
 * first) and every transition goes through {@link #moveTo}. The rest is delegated: module phases to
 * {@link ModulePhases}, deadlines to {@link Deadlines}, errors to {@link ProxyError} and
 * {@link ErrorResponder}, gRPC to {@link GrpcCalls}, WebSocket to {@link WebSocketUpgrade}, header
 * rules to {@link ForwardedHeaders}.
 */
public final class Exchange implements UpstreamListener {
    /** Engine bugs (an exception escaping an event handler, an illegal transition); tests expect none. */
    private static final LongAdder ENGINE_FAILURES = new LongAdder();

    private final ProxyEngine engine;
    private final Downstream downstream;
    private final EventLoop loop;
    private final NanoClock clock;
    private final RequestContext ctx;
    private final ModulePhases phases;
    private final Deadlines deadlines;
    private final PeerAttempts attempts = new PeerAttempts();
    private final boolean webSocket;
    private final boolean grpc;

    private ExchangeState state = ExchangeState.PHASES;
    /** Bumped on every transition: a phase that completes later resumes only if nothing moved meanwhile. */
    private int epoch;
    private UpstreamConnection upstream;
    /** Request body pieces that passed the body phases before the request head went upstream. */
    private ArrayDeque<HttpContent> pendingBody;
    /** Response body pieces that arrived while the response head was still in its phases. */
    private ArrayDeque<HttpContent> pendingResponse;
    /** The local or error answer going through the response phases, or null for a proxied response. */
    private Verdict.Respond localAnswer;
    /** A 101 from the origin is going through the response phases. */
    private boolean switching;
    private boolean requestFullyRead;
    private boolean requestSent;
    private boolean requestBodyStarted;
    private boolean informationalTail;
    private boolean responseBodyFollows;
    private boolean upstreamReusable;
    private boolean retriedStale;

    Exchange(ProxyEngine engine, Downstream downstream, HttpRequest request, InetSocketAddress client, boolean secure) {
        this.engine = engine;
        this.downstream = downstream;
        this.loop = downstream.eventLoop();
        this.clock = engine.clock();
        this.ctx = new RequestContext(engine.service(), client, secure, request, clock.nanoTime());
        this.phases = new ModulePhases(this, engine.modules(), ctx, loop);
        this.deadlines = new Deadlines(engine.slowClients());
        this.grpc = GrpcCalls.isGrpc(request);
        this.webSocket = WebSocketUpgrade.isRequested(request);
    }

    public RequestContext context() {
        return ctx;
    }

    public ExchangeState state() {
        return state;
    }

    int epoch() {
        return epoch;
    }

    /** How many engine bugs (escaped exceptions, illegal transitions) this JVM has seen. */
    public static long engineFailures() {
        return ENGINE_FAILURES.sum();
    }

    @Override
    public InetSocketAddress proxiedClient() {
        return ctx.client();
    }

    @Override
    public InetSocketAddress proxiedDestination() {
        return downstream.localAddress();
    }

    private void moveTo(ExchangeState next) {
        if (!state.mayMoveTo(next)) {
            throw new IllegalStateException("exchange cannot go from " + state + " to " + next);
        }
        state = next;
        epoch++;
    }

    // ---- client events ----------------------------------------------------------------------------

    /**
     * The request head arrived: runs the request phases.
     *
     * @param bodyless whether the request has no body (the codec then delivers no body pieces)
     */
    public void start(boolean bodyless) {
        try {
            requestFullyRead = bodyless;
            if (!bodyless) {
                downstream.setReading(false); // hold the body until we know where it goes
            }
            phases.runRequest(0);
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** A request body piece from the client. */
    public void onRequestBody(HttpContent content) {
        try {
            requestFullyRead |= content instanceof LastHttpContent;
            if (state == ExchangeState.DONE || localAnswer != null) {
                content.release();
            } else {
                phases.runBody(true, content);
            }
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** The request body's framing turned out to be invalid: nothing more of it can be trusted. */
    public void onRequestBodyInvalid() {
        try {
            fail(ProxyError.of(ProxyError.Kind.BAD_REQUEST_BODY));
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** The client's connection can take more data again. */
    public void onDownstreamWritable() {
        deadlines.clientWritable();
        if (upstream != null && state == ExchangeState.STREAMING && !phases.holding(false)) {
            upstream.channel().config().setAutoRead(true);
        }
    }

    /** The client went away before the exchange ended. */
    public void onDownstreamClosed() {
        try {
            if (state == ExchangeState.DONE) {
                return;
            }
            if (ctx.status == null) {
                ctx.status = HttpResponseStatus.valueOf(499, "Client Closed Request");
            }
            if (upstream != null && requestSent && requestFullyRead && !upstream.isHttp2()) {
                // The origin is answering a complete request: let it finish and keep the connection.
                boolean headSeen = state == ExchangeState.HEAD_PHASES || state == ExchangeState.STREAMING;
                upstream.drainThenRelease(headSeen ? upstreamReusable : null, isHead());
                upstream = null;
            }
            dropUpstream();
            finish();
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** Whether the whole request body has been read from the client. */
    public boolean requestFullyRead() {
        return requestFullyRead;
    }

    // ---- selecting and connecting -----------------------------------------------------------------

    /** The request phases let the request through: choose a peer. */
    void requestPhasesDone() {
        select();
    }

    private void select() {
        moveTo(ExchangeState.SELECTING);
        if (ctx.upstreams == null) {
            ctx.upstreams = engine.selector();
        }
        Peer peer;
        try {
            peer = attempts.choose(ctx, engine.modules());
        } catch (PeerAttempts.ModuleFailure f) {
            moduleFailed(f.module, f.phase, f.getCause());
            return;
        }
        if (peer == null) {
            fail(ProxyError.of(ProxyError.Kind.NO_PEER));
            return;
        }
        if (grpc && !GrpcCalls.canCarry(peer)) {
            fail(ProxyError.of(ProxyError.Kind.NEEDS_HTTP2));
            return;
        }
        moveTo(ExchangeState.CONNECTING);
        // A protocol switch takes its connection for good: open a fresh one, on this event loop.
        // A request with a body streams it on its own event loop's connections only.
        UpstreamConnection idle = webSocket || grpc ? null : engine.pool().takeIdle(peer, loop, this, requestFullyRead);
        if (idle != null) {
            onConnected(idle);
            return;
        }
        Future<UpstreamConnection> connecting = engine.pool().connect(peer, loop, this, webSocket);
        int at = epoch;
        connecting.addListener(f -> onConnectDone(at, connecting));
    }

    private void onConnectDone(int at, Future<UpstreamConnection> acquired) {
        try {
            boolean current = state == ExchangeState.CONNECTING && at == epoch;
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
            if (!current) {
                return;
            }
            ProxyError error = attempts.afterConnectFailure(ctx, engine.modules(), acquired.cause());
            if (error == null) {
                select();
            } else {
                fail(error);
            }
        } catch (PeerAttempts.ModuleFailure f) {
            moduleFailed(f.module, f.phase, f.getCause());
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    private void onConnected(UpstreamConnection connection) {
        if (grpc && !connection.isHttp2()) {
            connection.release();
            fail(ProxyError.of(ProxyError.Kind.NEEDS_HTTP2));
            return;
        }
        upstream = connection;
        ctx.upstreamReused = connection.reused();
        ctx.connectNanos = clock.nanoTime() - ctx.startNanos();
        HttpRequest upstreamRequest = ForwardedHeaders.upstreamRequest(ctx.request(), ctx.socketPeer(), ctx.secure(), ctx.peer.label(),
                connection.isHttp2());
        if (webSocket) {
            WebSocketUpgrade.askUpstream(upstreamRequest.headers());
        }
        phases.runHead(ModulePhases.Head.UPSTREAM_REQUEST, 0, upstreamRequest);
    }

    /** Sends the request head (and what body is queued) once the upstream-request phase is done. */
    private void sendRequestHead(HttpRequest upstreamRequest) {
        Channel ch = upstream.channel();
        ch.write(upstreamRequest, ch.voidPromise());
        boolean lastSent = requestFullyRead && !phases.holding(true);
        if (lastSent && !requestBodyStarted && (pendingBody == null || pendingBody.isEmpty())) {
            // The encoder needs an end-of-message even for a request without a body.
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        requestSent = true;
        HttpContent chunk;
        while (pendingBody != null && (chunk = pendingBody.poll()) != null) {
            writeBodyUpstream(chunk);
        }
        ch.flush();
        long now = clock.nanoTime();
        int readMs = ctx.peer.timeouts().readMs();
        long timeout = TimeUnit.MILLISECONDS.toNanos(readMs > 0 ? readMs : engine.settings().upstreamResponseTimeoutMs());
        downstream.wakeAt(deadlines.expectResponse(now, timeout));
        moveTo(lastSent ? ExchangeState.AWAITING_HEAD : ExchangeState.SENDING);
        if (!lastSent) {
            downstream.setReading(ch.isWritable() && !phases.holding(true));
            bodyMoved(now);
        }
    }

    // ---- bodies -----------------------------------------------------------------------------------

    /** A body piece came out of its direction's phases. */
    void bodyPhasesDone(boolean toUpstream, HttpContent chunk) {
        if (toUpstream) {
            deliverRequestBody(chunk);
        } else {
            deliverResponseBody(chunk);
        }
    }

    /** Whether a body piece a module gave back later may still go on (else it is dropped). */
    boolean takesBody(boolean toUpstream, int at) {
        return state != ExchangeState.DONE && (toUpstream ? localAnswer == null : at == epoch);
    }

    /** Pauses or resumes the source of a direction whose body a module holds. */
    void holdSource(boolean toUpstream, boolean held) {
        if (toUpstream) {
            if (held || (requestSent && upstream != null && !requestFullyRead)) {
                downstream.setReading(!held && upstream.channel().isWritable());
            }
        } else if (upstream != null) {
            upstream.channel().config().setAutoRead(!held && downstream.isWritable());
        }
    }

    private void deliverRequestBody(HttpContent chunk) {
        ctx.bytesIn += chunk.content().readableBytes();
        if (!requestSent) {
            if (pendingBody == null) {
                pendingBody = new ArrayDeque<>(4);
            }
            pendingBody.add(chunk);
            return;
        }
        boolean last = chunk instanceof LastHttpContent;
        writeBodyUpstream(chunk);
        Channel ch = upstream.channel();
        ch.flush();
        if (last && state == ExchangeState.SENDING) {
            moveTo(ExchangeState.AWAITING_HEAD);
        } else if (!last && !ch.isWritable()) {
            downstream.setReading(false);
        }
        bodyMoved(clock.nanoTime());
    }

    private void writeBodyUpstream(HttpContent chunk) {
        requestBodyStarted |= chunk.content().isReadable();
        upstream.channel().write(chunk, upstream.channel().voidPromise());
    }

    private void deliverResponseBody(HttpContent chunk) {
        ctx.bytesOut += chunk.content().readableBytes();
        downstream.sendBody(chunk);
        if (chunk instanceof LastHttpContent) {
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
        long now = clock.nanoTime();
        bodyMoved(now);
        if (!downstream.isWritable()) {
            upstream.channel().config().setAutoRead(false);
            long check = deadlines.clientStalled(now);
            if (check != 0) {
                downstream.wakeAt(check);
            }
        }
    }

    // ---- upstream events --------------------------------------------------------------------------

    @Override
    public void onUpstreamMessage(UpstreamConnection connection, HttpObject message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamMessage(connection, message));
            return;
        }
        try {
            if (state == ExchangeState.DONE || connection != upstream) {
                ReferenceCountUtil.release(message);
            } else if (message.decoderResult().isFailure()) {
                ReferenceCountUtil.release(message);
                fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE, message.decoderResult().cause()));
            } else {
                if (message instanceof HttpResponse response) {
                    onResponseHead(response);
                }
                if (message instanceof HttpContent content) {
                    onResponseContent(content);
                }
            }
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    private void onResponseHead(HttpResponse response) {
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            informationalTail = true;
            if (code == 101) {
                onSwitchingProtocols(response);
            } else if (!downstream.isHttp10()) {
                ForwardedHeaders.removeHopByHop(response.headers());
                downstream.sendInformational(response);
            }
            return;
        }
        deadlines.responseArrived();
        if (ctx.upstreams != null) {
            ctx.upstreams.report(ctx.peer, true);
        }
        responseBodyFollows = !isHead() && code != 204 && code != 304;
        upstreamReusable = UpstreamConnection.reusableAfter(response, responseBodyFollows);
        moveTo(ExchangeState.HEAD_PHASES);
        phases.runHead(ModulePhases.Head.UPSTREAM_RESPONSE, 0, response);
    }

    private void onResponseContent(HttpContent content) {
        if (informationalTail) {
            // The end-of-message of a 1xx head: not part of the final response.
            informationalTail = false;
            content.release();
        } else if (state == ExchangeState.HEAD_PHASES) {
            if (pendingResponse == null) {
                pendingResponse = new ArrayDeque<>(4);
            }
            pendingResponse.add(content);
            upstream.channel().config().setAutoRead(false);
        } else if (state == ExchangeState.STREAMING) {
            phases.runBody(false, content);
        } else {
            content.release();
        }
    }

    /** The origin answered 101: a WebSocket request's switch goes through the response phases, then to a tunnel. */
    private void onSwitchingProtocols(HttpResponse response) {
        if (!WebSocketUpgrade.accepted(webSocket, response)) {
            fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE));
            return;
        }
        deadlines.responseArrived();
        WebSocketUpgrade.prepareForClient(response);
        moveTo(ExchangeState.HEAD_PHASES);
        switching = true;
        phases.runHead(ModulePhases.Head.RESPONSE, 0, response);
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection connection, Throwable cause) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamFailure(connection, cause));
            return;
        }
        try {
            if (state == ExchangeState.DONE || connection != upstream) {
                return;
            }
            engine.log().debug("upstream {} failed: {}", ctx.peer, cause.toString());
            boolean unanswered = state == ExchangeState.CONNECTING || state == ExchangeState.SENDING || state == ExchangeState.AWAITING_HEAD;
            if (unanswered && (ctx.upstreamReused || connection.refusedByPeer()) && !requestBodyStarted && !retriedStale
                    && (pendingBody == null || pendingBody.isEmpty()) && !phases.holding(true)) {
                // A pooled connection the origin closed just as we used it, or a stream the origin
                // refused: the request was not processed, so one fresh attempt is safe.
                dropUpstream();
                retriedStale = true;
                requestSent = false;
                deadlines.responseArrived();
                attempts.forgetLast(ctx);
                select();
                return;
            }
            fail(ProxyError.of(ProxyError.Kind.UPSTREAM_CLOSED, cause));
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection connection, boolean writable) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamWritabilityChanged(connection, writable));
            return;
        }
        if (state != ExchangeState.DONE && connection == upstream && !requestFullyRead && requestSent && !phases.holding(true)) {
            downstream.setReading(writable);
        }
    }

    // ---- response heads ---------------------------------------------------------------------------

    /** A head phase ran through every module. */
    void headPhaseDone(ModulePhases.Head phase, HttpMessage message) {
        switch (phase) {
            case UPSTREAM_REQUEST -> sendRequestHead((HttpRequest) message);
            case UPSTREAM_RESPONSE -> {
                ForwardedHeaders.forClient((HttpResponse) message);
                phases.runHead(ModulePhases.Head.RESPONSE, 0, message);
            }
            case RESPONSE -> {
                if (localAnswer != null) {
                    sendLocal();
                } else if (switching) {
                    joinTunnel((HttpResponse) message);
                } else {
                    sendProxiedHead((HttpResponse) message);
                }
            }
        }
    }

    private void sendProxiedHead(HttpResponse response) {
        long now = clock.nanoTime();
        ctx.status = response.status();
        ctx.responseHeadNanos = now - ctx.startNanos();
        deadlines.headSent(now);
        moveTo(ExchangeState.STREAMING);
        downstream.sendHead(response, responseBodyFollows);
        bodyMoved(now);
        HttpContent queued;
        while (pendingResponse != null && state == ExchangeState.STREAMING && (queued = pendingResponse.poll()) != null) {
            phases.runBody(false, queued);
        }
        if (state == ExchangeState.STREAMING && !phases.holding(false)) {
            holdSource(false, false);
        }
    }

    private void joinTunnel(HttpResponse switchingResponse) {
        ctx.status = switchingResponse.status();
        ctx.responseHeadNanos = clock.nanoTime() - ctx.startNanos();
        moveTo(ExchangeState.TUNNELLING);
        UpstreamConnection connection = upstream;
        upstream = null;
        WebSocketUpgrade.join(downstream, connection, switchingResponse, engine.settings().tunnelIdleTimeoutMs());
        finish();
    }

    /** Answers the request here (a module's verdict, a rejection, an error) through the response phases. */
    void answer(Verdict.Respond respond) {
        if (localAnswer != null) {
            localAnswer.discard();
        }
        localAnswer = respond;
        releaseQueues();
        moveTo(ExchangeState.HEAD_PHASES);
        phases.runHead(ModulePhases.Head.RESPONSE, 0, respond.head());
    }

    private void sendLocal() {
        Verdict.Respond respond = localAnswer;
        localAnswer = null;
        ctx.status = grpc && ctx.error != null ? ctx.error.status() : respond.head().status();
        ctx.responseHeadNanos = clock.nanoTime() - ctx.startNanos();
        moveTo(ExchangeState.STREAMING);
        ctx.bytesOut += LocalAnswer.send(downstream, respond, isHead());
        complete();
    }

    // ---- timeouts ---------------------------------------------------------------------------------

    /**
     * Checks this exchange's deadlines; called by the client connection's timer with the engine
     * clock's time. Returns the next deadline, or 0 when none is pending.
     */
    public long onTick(long now) {
        try {
            if (state == ExchangeState.DONE) {
                return 0;
            }
            boolean awaiting = state == ExchangeState.SENDING || state == ExchangeState.AWAITING_HEAD;
            boolean bodyMoving = state == ExchangeState.SENDING || state == ExchangeState.STREAMING;
            switch (deadlines.check(now, awaiting, bodyMoving, bodyIdleNanos(), ctx.bytesOut)) {
                case RESPONSE -> fail(ProxyError.of(ProxyError.Kind.UPSTREAM_TIMEOUT));
                case BODY -> fail(ProxyError.of(ProxyError.Kind.BODY_TIMEOUT));
                case CLIENT -> fail(ProxyError.of(ProxyError.Kind.CLIENT_TOO_SLOW));
                case NONE -> {
                    return deadlines.next();
                }
            }
            return 0;
        } catch (RuntimeException e) {
            crashed(e);
            return 0;
        }
    }

    private void bodyMoved(long now) {
        long first = deadlines.bodyMoved(now, bodyIdleNanos());
        if (first != 0) {
            downstream.wakeAt(first);
        }
    }

    /**
     * How long a body may stall: the connector's write timeout while the request body is going up,
     * its read timeout while the response streams, else the service's body timeout.
     */
    private long bodyIdleNanos() {
        int ms = 0;
        if (ctx.peer != null) {
            ms = state == ExchangeState.SENDING ? ctx.peer.timeouts().writeMs() : ctx.peer.timeouts().readMs();
        }
        return TimeUnit.MILLISECONDS.toNanos(ms > 0 ? ms : engine.settings().bodyIdleTimeoutMs());
    }

    // ---- endings ----------------------------------------------------------------------------------

    /**
     * The request failed: the client gets the error's answer if no response has started (through
     * the modules' onError and response phases), else the response is cut short.
     */
    private void fail(ProxyError error) {
        if (state == ExchangeState.DONE) {
            return;
        }
        boolean failingTwice = ctx.error != null && localAnswer != null;
        ctx.error = error;
        if (error.blamesUpstream() && error.source() != ProxyError.Source.UPSTREAM_CONNECT && ctx.upstreams != null) {
            ctx.upstreams.report(ctx.peer, false); // connect failures were reported as they happened
        }
        dropUpstream();
        if (state == ExchangeState.STREAMING || state == ExchangeState.TUNNELLING || failingTwice || error.kind() == ProxyError.Kind.CLIENT_TOO_SLOW) {
            downstream.abort();
            finish();
            return;
        }
        Verdict.Respond response = ErrorResponder.respond(error, grpc);
        ProxyModule[] modules = engine.modules();
        for (int i = modules.length - 1; i >= 0; i--) {
            try {
                response = modules[i].onError(ctx, error, response);
            } catch (RuntimeException e) {
                phases.logFailure(modules[i], "onError", e);
            }
        }
        answer(response);
    }

    /** A module refused what was passing through (a body over its limit). */
    void reject(Rejected r) {
        engine.log().debug("{} {}: {}", ctx.request().method(), ctx.path(), r.getMessage());
        dropUpstream();
        if (state == ExchangeState.STREAMING || state == ExchangeState.TUNNELLING) {
            downstream.abort();
            finish();
        } else if (state != ExchangeState.DONE) {
            answer(Verdict.text(r.status(), r.body()));
        }
    }

    /** A module threw: the request fails with a module error (500), never blaming the upstream. */
    void moduleFailed(ProxyModule module, String phase, Throwable cause) {
        phases.logFailure(module, phase, cause);
        fail(ProxyError.ofModule(module.name(), cause));
    }

    /**
     * An exception escaped the engine itself: a bug. The request still ends (with 500 if nothing was
     * sent yet, else the connection is cut) and the logging phase runs; the counter lets tests fail.
     */
    void crashed(RuntimeException e) {
        ENGINE_FAILURES.increment();
        engine.log().error("exchange for {} {} failed in state {}", ctx.request().method(), ctx.path(), state, e);
        if (state == ExchangeState.DONE) {
            return;
        }
        dropUpstream();
        boolean nothingSent = state != ExchangeState.STREAMING && state != ExchangeState.TUNNELLING && state != ExchangeState.HEAD_PHASES;
        if (nothingSent && ctx.error == null) {
            try {
                ctx.error = ProxyError.of(ProxyError.Kind.INTERNAL, e);
                localAnswer = ErrorResponder.respond(ctx.error, grpc);
                releaseQueues();
                state = ExchangeState.HEAD_PHASES; // straight to sending: the phases are what failed
                sendLocal();
                return;
            } catch (RuntimeException again) {
                engine.log().debug("error response failed too", again);
            }
        }
        downstream.abort();
        finish();
    }

    private void dropUpstream() {
        if (upstream != null) {
            upstream.discard();
            upstream = null;
        }
    }

    private void complete() {
        releaseQueues();
        downstream.responseComplete(requestFullyRead);
        finish();
    }

    private void finish() {
        if (state == ExchangeState.DONE) {
            return;
        }
        moveTo(ExchangeState.DONE);
        releaseQueues();
        if (localAnswer != null) {
            localAnswer.discard();
            localAnswer = null;
        }
        ctx.endNanos = clock.nanoTime() - ctx.startNanos();
        for (ProxyModule m : engine.modules()) {
            try {
                m.onLogging(ctx);
            } catch (RuntimeException e) {
                engine.log().warn("module {} failed in onLogging", m.name(), e);
            }
        }
    }

    /** Releases every body piece still queued, in either direction. */
    private void releaseQueues() {
        releaseAll(pendingBody);
        releaseAll(pendingResponse);
        phases.releaseHeld();
    }

    static void releaseAll(ArrayDeque<HttpContent> queue) {
        HttpContent c;
        while (queue != null && (c = queue.poll()) != null) {
            c.release();
        }
    }

    private boolean isHead() {
        return ctx.request().method().equals(HttpMethod.HEAD);
    }
}
