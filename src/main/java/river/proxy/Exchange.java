package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultLastHttpContent;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import river.upstream.Peer;
import river.upstream.PeerSelector;
import river.upstream.UpstreamConnection;
import river.upstream.UpstreamListener;

/**
 * One request from arrival to logging, as a state machine driven by events: the client's head, body
 * and departure, the upstream's connection, head, body and failure, the timer and writability. Every
 * event is handled on the client's event loop (upstream events from another loop are handed over
 * first), every transition goes through {@link #moveTo}, and every failure becomes one
 * {@link ProxyError}. Feature policy lives elsewhere: errors become responses in
 * {@link ErrorResponder}, gRPC in {@link GrpcCalls}, WebSocket in {@link WebSocketUpgrade}, slow
 * clients in {@link SlowClientGuard}, header rules in {@link ForwardedHeaders}.
 */
public final class Exchange implements UpstreamListener {
    private static final int MAX_ATTEMPTS = 3;
    /** Engine bugs (an exception escaping an event handler, an illegal transition); tests expect none. */
    private static final LongAdder ENGINE_FAILURES = new LongAdder();

    /** The exchange's life; docs/architecture.md draws the transitions. */
    public enum State {
        /** Request phases (modules' onRequest) are running, or one of them is waiting. */
        PHASES,
        /** Choosing the peer for an attempt (the selector, then upstreamPeer). */
        SELECTING,
        /** Waiting for a connection, then running the upstream-request phase. */
        CONNECTING,
        /** Request head sent; the request body is still going up. */
        SENDING,
        /** The whole request is upstream; waiting for the response head. */
        AWAITING_HEAD,
        /** A response head (upstream, local or error) is going through the response phases. */
        HEAD_PHASES,
        /** The response head went to the client; the body streams. */
        STREAMING,
        /** Both connections were joined into a byte tunnel (WebSocket). */
        TUNNELLING,
        /** Ended, in any way; the logging phase has run. */
        DONE;

        /** Whether the exchange may go from this state to {@code next}. */
        boolean mayMoveTo(State next) {
            if (next == DONE) {
                return this != DONE;
            }
            return switch (this) {
                case PHASES -> next == SELECTING || next == HEAD_PHASES;
                case SELECTING -> next == CONNECTING || next == HEAD_PHASES;
                case CONNECTING -> next == SELECTING || next == SENDING || next == AWAITING_HEAD || next == HEAD_PHASES;
                case SENDING -> next == AWAITING_HEAD || next == HEAD_PHASES || next == SELECTING;
                case AWAITING_HEAD -> next == HEAD_PHASES || next == SELECTING;
                case HEAD_PHASES -> next == HEAD_PHASES || next == STREAMING || next == TUNNELLING;
                case STREAMING, TUNNELLING, DONE -> false;
            };
        }
    }

    /** The phases that see a message head and may complete later. */
    private enum HeadPhase {
        UPSTREAM_REQUEST, UPSTREAM_RESPONSE, RESPONSE
    }

    private final ProxyEngine engine;
    private final Downstream downstream;
    private final EventLoop loop;
    private final NanoClock clock;
    private final RequestContext ctx;

    private State state = State.PHASES;
    /** Bumped on every transition: a phase that completes later resumes only if nothing moved meanwhile. */
    private int epoch;
    private UpstreamConnection upstream;
    /** Request body pieces that passed the body phases before the request head went upstream. */
    private ArrayDeque<HttpContent> pendingBody;
    /** Response body pieces that arrived while the response head was still in its phases. */
    private ArrayDeque<HttpContent> pendingResponse;
    /** Body phases waiting on a module, per direction; created only when a module waits. */
    private BodyHold requestHold;
    private BodyHold responseHold;
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
    private boolean moduleFailureLogged;
    private final boolean webSocket;
    private final boolean grpc;
    /** The peers this request was sent to, so that a retry goes elsewhere; only after a first retry. */
    private List<Peer> tried;

    /** When the response head must have arrived (clock nanos), or 0. */
    private long responseDeadline;
    private boolean watchingBody;
    private long lastBodyActivity;
    /** Since when the client has not been taking the response (its connection not writable), or 0. */
    private long clientStalledSince;
    /** When the response head went to the client, for the minimum send rate. */
    private long headSentAt;

    Exchange(ProxyEngine engine, Downstream downstream, HttpRequest request, InetSocketAddress client, boolean secure) {
        this.engine = engine;
        this.downstream = downstream;
        this.loop = downstream.eventLoop();
        this.clock = engine.clock();
        this.ctx = new RequestContext(engine.service(), client, secure, request, clock.nanoTime());
        this.grpc = GrpcCalls.isGrpc(request);
        this.webSocket = WebSocketUpgrade.isRequested(request);
    }

    public RequestContext context() {
        return ctx;
    }

    public State state() {
        return state;
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

    private void moveTo(State next) {
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
            runRequestPhases(0);
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** A request body piece from the client. */
    public void onRequestBody(HttpContent content) {
        try {
            if (content instanceof LastHttpContent) {
                requestFullyRead = true;
            }
            if (state == State.DONE || localAnswer != null) {
                content.release();
            } else if (busy(requestHold)) {
                requestHold.waiting.add(content);
            } else {
                runBodyPhases(true, 0, content);
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
        clientStalledSince = 0;
        if (upstream != null && state == State.STREAMING && !busy(responseHold)) {
            upstream.channel().config().setAutoRead(true);
        }
    }

    /** The client went away before the exchange ended. */
    public void onDownstreamClosed() {
        try {
            if (state == State.DONE) {
                return;
            }
            if (ctx.status == null) {
                ctx.status = HttpResponseStatus.valueOf(499, "Client Closed Request");
            }
            if (upstream != null) {
                if (requestSent && requestFullyRead && !upstream.isHttp2()) {
                    // The origin is answering a complete request: let it finish and keep the connection.
                    boolean headSeen = state == State.HEAD_PHASES || state == State.STREAMING;
                    upstream.drainThenRelease(headSeen ? upstreamReusable : null, isHead());
                } else {
                    upstream.discard();
                }
                upstream = null;
            }
            finish();
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    /** Whether the whole request body has been read from the client. */
    public boolean requestFullyRead() {
        return requestFullyRead;
    }

    // ---- request phases ---------------------------------------------------------------------------

    private void runRequestPhases(int from) {
        ProxyModule[] modules = engine.modules();
        for (int i = from; i < modules.length; i++) {
            CompletionStage<Verdict> stage;
            try {
                stage = modules[i].onRequest(ctx);
            } catch (RuntimeException e) {
                moduleFailed(modules[i], "onRequest", e);
                return;
            }
            if (stage == Verdict.CONTINUE_NOW) {
                continue;
            }
            CompletableFuture<Verdict> future = stage.toCompletableFuture();
            if (!future.isDone()) {
                ProxyModule module = modules[i];
                int next = i + 1;
                int at = epoch;
                stage.whenComplete((verdict, error) -> loop.execute(() -> resumeRequestPhases(at, module, next, verdict, error)));
                return;
            }
            Verdict verdict;
            try {
                verdict = future.join();
            } catch (CompletionException e) {
                moduleFailed(modules[i], "onRequest", e.getCause());
                return;
            }
            if (verdict instanceof Verdict.Respond respond) {
                answer(respond);
                return;
            }
        }
        select();
    }

    private void resumeRequestPhases(int at, ProxyModule module, int next, Verdict verdict, Throwable error) {
        try {
            if (state != State.PHASES || at != epoch) {
                // The client left (or the request failed) while the module was deciding.
                if (verdict instanceof Verdict.Respond respond) {
                    respond.discard();
                }
                return;
            }
            if (error != null) {
                moduleFailed(module, "onRequest", error);
            } else if (verdict instanceof Verdict.Respond respond) {
                answer(respond);
            } else {
                runRequestPhases(next);
            }
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    // ---- selecting and connecting -----------------------------------------------------------------

    private void select() {
        moveTo(State.SELECTING);
        if (ctx.upstreams == null) {
            ctx.upstreams = engine.selector();
        }
        if (ctx.attempts > 0 && tried == null) {
            // A retry: from now on remember every peer tried (the first attempt needs no list).
            tried = new ArrayList<>(MAX_ATTEMPTS);
            tried.add(ctx.peer);
        }
        Peer peer = ctx.upstreams == null ? null : ctx.upstreams.select(ctx.path(), ctx.client(), tried);
        for (ProxyModule m : engine.modules()) {
            try {
                peer = m.upstreamPeer(ctx, peer);
            } catch (RuntimeException e) {
                moduleFailed(m, "upstreamPeer", e);
                return;
            }
        }
        if (peer == null) {
            fail(ProxyError.of(ProxyError.Kind.NO_PEER));
            return;
        }
        ctx.attempts++;
        ctx.peer = peer;
        if (tried != null) {
            tried.add(peer);
        }
        if (grpc && !GrpcCalls.canCarry(peer)) {
            fail(ProxyError.of(ProxyError.Kind.NEEDS_HTTP2));
            return;
        }
        moveTo(State.CONNECTING);
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
            if (acquired.isSuccess()) {
                if (state != State.CONNECTING || at != epoch) {
                    acquired.getNow().release();
                } else {
                    onConnected(acquired.getNow());
                }
                return;
            }
            Peer peer = ctx.peer;
            engine.log().debug("connect to {} failed: {}", peer, acquired.cause().toString());
            PeerSelector upstreams = ctx.upstreams;
            if (upstreams != null) {
                upstreams.report(peer, false);
            }
            if (state != State.CONNECTING || at != epoch) {
                return;
            }
            ProxyError error = ProxyError.ofConnectFailure(acquired.cause());
            for (ProxyModule m : engine.modules()) {
                try {
                    error = m.failToConnect(ctx, peer, error);
                } catch (RuntimeException e) {
                    moduleFailed(m, "failToConnect", e);
                    return;
                }
            }
            int limit = Math.min(MAX_ATTEMPTS, upstreams == null ? 1 : upstreams.size());
            if (error.retryOnAnotherPeer() && ctx.attempts < limit) {
                select();
            } else {
                fail(error);
            }
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
        runHeadPhases(HeadPhase.UPSTREAM_REQUEST, 0, upstreamRequest);
    }

    /** Sends the request head (and what body is queued) once the upstream-request phase is done. */
    private void sendRequestHead(HttpRequest upstreamRequest) {
        Channel ch = upstream.channel();
        ch.write(upstreamRequest, ch.voidPromise());
        if (requestFullyRead && noPendingBody() && !requestBodyStarted && !busy(requestHold)) {
            // The encoder needs an end-of-message even for a request without a body.
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
        }
        requestSent = true;
        boolean lastSent = requestFullyRead && !busy(requestHold);
        HttpContent chunk;
        while (pendingBody != null && (chunk = pendingBody.poll()) != null) {
            writeBodyUpstream(chunk);
        }
        ch.flush();
        long now = clock.nanoTime();
        int readMs = ctx.peer.timeouts().readMs();
        responseDeadline = now + TimeUnit.MILLISECONDS.toNanos(readMs > 0 ? readMs : engine.settings().upstreamResponseTimeoutMs());
        downstream.wakeAt(responseDeadline);
        moveTo(lastSent ? State.AWAITING_HEAD : State.SENDING);
        if (!lastSent) {
            downstream.setReading(ch.isWritable() && !busy(requestHold));
            touchBody(now);
        }
    }

    // ---- body phases ------------------------------------------------------------------------------

    /** Runs the body phases of one direction from module {@code step} on (response: in reverse order). */
    private void runBodyPhases(boolean toUpstream, int step, HttpContent chunk) {
        ProxyModule[] modules = engine.modules();
        int n = modules.length;
        for (; step < n; step++) {
            ProxyModule module = toUpstream ? modules[step] : modules[n - 1 - step];
            HttpContent in = chunk;
            try {
                chunk = toUpstream ? module.onRequestBody(ctx, in) : module.onResponseBody(ctx, in);
            } catch (Rejected r) {
                in.release();
                reject(r);
                return;
            } catch (RuntimeException e) {
                in.release();
                moduleFailed(module, toUpstream ? "onRequestBody" : "onResponseBody", e);
                return;
            }
            if (chunk instanceof ProxyModule.PendingChunk pending) {
                holdBody(toUpstream, module, step + 1, pending.stage);
                return;
            }
        }
        if (toUpstream) {
            deliverRequestBody(chunk);
        } else {
            deliverResponseBody(chunk);
        }
    }

    /** A module will give the chunk later: pause that direction's source until it does. */
    private void holdBody(boolean toUpstream, ProxyModule module, int next, CompletionStage<HttpContent> stage) {
        BodyHold hold = toUpstream ? requestHold : responseHold;
        if (hold == null) {
            hold = new BodyHold();
            if (toUpstream) {
                requestHold = hold;
            } else {
                responseHold = hold;
            }
        }
        hold.holding = true;
        if (toUpstream) {
            downstream.setReading(false);
        } else if (upstream != null) {
            upstream.channel().config().setAutoRead(false);
        }
        BodyHold held = hold;
        int at = epoch;
        stage.whenComplete((chunk, error) -> loop.execute(() -> resumeBody(toUpstream, held, at, module, next, chunk, error)));
    }

    private void resumeBody(boolean toUpstream, BodyHold hold, int at, ProxyModule module, int next, HttpContent chunk, Throwable error) {
        try {
            boolean current = (toUpstream ? requestHold : responseHold) == hold && hold.holding;
            if (state == State.DONE || !current || (toUpstream ? localAnswer != null : at != epoch)) {
                ReferenceCountUtil.release(chunk);
                return;
            }
            hold.holding = false;
            if (error != null) {
                moduleFailed(module, toUpstream ? "onRequestBody" : "onResponseBody", error);
                return;
            }
            runBodyPhases(toUpstream, next, chunk);
            HttpContent waiting;
            while (!hold.holding && state != State.DONE && (waiting = hold.waiting.poll()) != null) {
                runBodyPhases(toUpstream, 0, waiting);
            }
            if (hold.holding || state == State.DONE) {
                return;
            }
            if (toUpstream && requestSent && upstream != null && !requestFullyRead) {
                downstream.setReading(upstream.channel().isWritable());
            } else if (!toUpstream && upstream != null && downstream.isWritable()) {
                upstream.channel().config().setAutoRead(true);
            }
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    private void deliverRequestBody(HttpContent chunk) {
        ctx.bytesIn += chunk.content().readableBytes();
        boolean last = chunk instanceof LastHttpContent;
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
        if (last) {
            if (state == State.SENDING) {
                moveTo(State.AWAITING_HEAD);
            }
        } else if (!ch.isWritable()) {
            downstream.setReading(false);
        }
        touchBody(clock.nanoTime());
    }

    private void writeBodyUpstream(HttpContent chunk) {
        requestBodyStarted |= chunk.content().isReadable();
        upstream.channel().write(chunk, upstream.channel().voidPromise());
    }

    // ---- upstream events --------------------------------------------------------------------------

    @Override
    public void onUpstreamMessage(UpstreamConnection connection, HttpObject message) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamMessage(connection, message));
            return;
        }
        try {
            if (state == State.DONE || connection != upstream) {
                ReferenceCountUtil.release(message);
                return;
            }
            if (message.decoderResult().isFailure()) {
                ReferenceCountUtil.release(message);
                fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE, message.decoderResult().cause()));
                return;
            }
            if (message instanceof HttpResponse response) {
                onResponseHead(response);
            }
            if (message instanceof HttpContent content) {
                onResponseContent(content);
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
        responseDeadline = 0;
        if (ctx.upstreams != null) {
            ctx.upstreams.report(ctx.peer, true);
        }
        responseBodyFollows = !isHead() && code != 204 && code != 304;
        upstreamReusable = UpstreamConnection.reusableAfter(response, responseBodyFollows);
        moveTo(State.HEAD_PHASES);
        runHeadPhases(HeadPhase.UPSTREAM_RESPONSE, 0, response);
    }

    private void onResponseContent(HttpContent content) {
        if (informationalTail) {
            // The end-of-message of a 1xx head: not part of the final response.
            informationalTail = false;
            content.release();
        } else if (state == State.HEAD_PHASES) {
            if (pendingResponse == null) {
                pendingResponse = new ArrayDeque<>(4);
            }
            pendingResponse.add(content);
            upstream.channel().config().setAutoRead(false);
        } else if (state != State.STREAMING) {
            content.release();
        } else if (busy(responseHold)) {
            responseHold.waiting.add(content);
        } else {
            runBodyPhases(false, 0, content);
        }
    }

    /** The origin answered 101: a WebSocket request's switch goes through the response phases, then to a tunnel. */
    private void onSwitchingProtocols(HttpResponse response) {
        if (!WebSocketUpgrade.accepted(webSocket, response)) {
            fail(ProxyError.of(ProxyError.Kind.BAD_RESPONSE));
            return;
        }
        responseDeadline = 0;
        WebSocketUpgrade.prepareForClient(response);
        moveTo(State.HEAD_PHASES);
        switching = true;
        runHeadPhases(HeadPhase.RESPONSE, 0, response);
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection connection, Throwable cause) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> onUpstreamFailure(connection, cause));
            return;
        }
        try {
            if (state == State.DONE || connection != upstream) {
                return;
            }
            engine.log().debug("upstream {} failed: {}", ctx.peer, cause.toString());
            boolean unprocessed = state == State.CONNECTING || state == State.SENDING || state == State.AWAITING_HEAD;
            if (unprocessed && (ctx.upstreamReused || connection.refusedByPeer()) && !requestBodyStarted && !retriedStale
                    && noPendingBody() && !busy(requestHold)) {
                // A pooled connection the origin closed just as we used it, or a stream the origin
                // refused: the request was not processed, so one fresh attempt is safe.
                dropUpstream();
                retriedStale = true;
                requestSent = false;
                responseDeadline = 0;
                ctx.attempts--;
                if (tried != null) {
                    tried.remove(tried.size() - 1); // the peer did nothing wrong: it may serve the retry
                }
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
        if (state != State.DONE && connection == upstream && !requestFullyRead && requestSent && !busy(requestHold)) {
            downstream.setReading(writable);
        }
    }

    // ---- response phases and sending --------------------------------------------------------------

    /**
     * Runs a head phase over the modules from {@code step} on: in module order for the request, in
     * reverse for the response. A module that waits resumes the chain from the next module, unless
     * the exchange moved on meanwhile.
     */
    private void runHeadPhases(HeadPhase phase, int step, HttpMessage message) {
        ProxyModule[] modules = engine.modules();
        int n = modules.length;
        for (; step < n; step++) {
            ProxyModule module = phase == HeadPhase.UPSTREAM_REQUEST ? modules[step] : modules[n - 1 - step];
            CompletionStage<Void> stage;
            try {
                stage = switch (phase) {
                    case UPSTREAM_REQUEST -> module.onUpstreamRequest(ctx, (HttpRequest) message);
                    case UPSTREAM_RESPONSE -> module.onUpstreamResponse(ctx, (HttpResponse) message);
                    case RESPONSE -> module.onResponse(ctx, (HttpResponse) message);
                };
            } catch (Rejected r) {
                reject(r);
                return;
            } catch (RuntimeException e) {
                moduleFailed(module, phase.name(), e);
                return;
            }
            if (stage == ProxyModule.DONE) {
                continue;
            }
            CompletableFuture<Void> future = stage.toCompletableFuture();
            if (!future.isDone()) {
                int next = step + 1;
                int at = epoch;
                stage.whenComplete((ignored, error) -> loop.execute(() -> resumeHeadPhases(at, phase, module, next, message, error)));
                return;
            }
            if (future.isCompletedExceptionally()) {
                resumeHeadPhases(epoch, phase, module, step + 1, message, future.handle((v, e) -> e).join());
                return;
            }
        }
        afterHeadPhase(phase, message);
    }

    private void resumeHeadPhases(int at, HeadPhase phase, ProxyModule module, int next, HttpMessage message, Throwable error) {
        try {
            if (at != epoch || state == State.DONE) {
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof Rejected r) {
                reject(r);
            } else if (cause != null) {
                moduleFailed(module, phase.name(), cause);
            } else {
                runHeadPhases(phase, next, message);
            }
        } catch (RuntimeException e) {
            crashed(e);
        }
    }

    private void afterHeadPhase(HeadPhase phase, HttpMessage message) {
        switch (phase) {
            case UPSTREAM_REQUEST -> sendRequestHead((HttpRequest) message);
            case UPSTREAM_RESPONSE -> {
                ForwardedHeaders.forClient((HttpResponse) message);
                runHeadPhases(HeadPhase.RESPONSE, 0, message);
            }
            case RESPONSE -> {
                if (localAnswer != null) {
                    sendLocal(localAnswer);
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
        headSentAt = now;
        moveTo(State.STREAMING);
        downstream.sendHead(response, responseBodyFollows);
        touchBody(now);
        HttpContent queued;
        while (pendingResponse != null && state == State.STREAMING && !busy(responseHold) && (queued = pendingResponse.poll()) != null) {
            runBodyPhases(false, 0, queued);
        }
        if (state == State.STREAMING && upstream != null && !busy(responseHold) && downstream.isWritable()) {
            upstream.channel().config().setAutoRead(true);
        }
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
        touchBody(clock.nanoTime());
        if (!downstream.isWritable()) {
            upstream.channel().config().setAutoRead(false);
            clientStalled();
        }
    }

    private void joinTunnel(HttpResponse switchingResponse) {
        ctx.status = switchingResponse.status();
        ctx.responseHeadNanos = clock.nanoTime() - ctx.startNanos();
        moveTo(State.TUNNELLING);
        UpstreamConnection connection = upstream;
        upstream = null;
        WebSocketUpgrade.join(downstream, connection, switchingResponse, engine.settings().tunnelIdleTimeoutMs());
        finish();
    }

    /** Answers the request here (a module's verdict, a rejection, an error) through the response phases. */
    private void answer(Verdict.Respond respond) {
        if (localAnswer != null) {
            localAnswer.discard();
        }
        localAnswer = respond;
        releaseQueues();
        moveTo(State.HEAD_PHASES);
        runHeadPhases(HeadPhase.RESPONSE, 0, respond.head());
    }

    private void sendLocal(Verdict.Respond respond) {
        localAnswer = null;
        HttpResponse head = respond.head();
        boolean isHead = isHead();
        ctx.status = grpc && ctx.error != null ? ctx.error.status() : head.status();
        ctx.responseHeadNanos = clock.nanoTime() - ctx.startNanos();
        moveTo(State.STREAMING);
        Verdict.Body body = respond.body();
        if (body instanceof Verdict.Body.FileRange file) {
            if (isHead) {
                respond.discard();
                downstream.sendHead(head, false);
                downstream.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                downstream.sendHead(head, true);
                ctx.bytesOut += file.length();
                downstream.sendFile(file.file(), file.offset(), file.length());
            }
        } else if (body instanceof Verdict.Body.Trailers trailers) {
            LastHttpContent end = new DefaultLastHttpContent();
            end.trailingHeaders().set(trailers.trailers());
            downstream.sendHead(head, true);
            downstream.sendBody(end);
        } else if (body instanceof Verdict.Body.Bytes bytes) {
            ByteBuf content = bytes.content();
            downstream.sendHead(head, !isHead);
            if (isHead) {
                content.release();
                downstream.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                ctx.bytesOut += content.readableBytes();
                downstream.sendBody(new DefaultLastHttpContent(content));
            }
        } else if (body instanceof Verdict.Body.Empty) {
            downstream.sendHead(head, false);
            downstream.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            throw new IllegalStateException("unhandled body kind " + body);
        }
        complete();
    }

    // ---- timeouts ---------------------------------------------------------------------------------

    /**
     * Checks this exchange's deadlines; called by the client connection's timer with the engine
     * clock's time. Returns the next deadline, or 0 when none is pending. Deadlines are plain fields,
     * so setting or moving one costs no timer operation on the request path.
     */
    public long onTick(long now) {
        try {
            return checkDeadlines(now);
        } catch (RuntimeException e) {
            crashed(e);
            return 0;
        }
    }

    private long checkDeadlines(long now) {
        if (state == State.DONE) {
            return 0;
        }
        if (responseDeadline != 0 && now - responseDeadline >= 0 && (state == State.SENDING || state == State.AWAITING_HEAD)) {
            fail(ProxyError.of(ProxyError.Kind.UPSTREAM_TIMEOUT));
            return 0;
        }
        if (engine.slowClients().tooSlow(now, clientStalledSince, headSentAt, ctx.bytesOut)) {
            engine.log().debug("client {} too slow to take the response; disconnecting", ctx.client());
            fail(ProxyError.of(ProxyError.Kind.CLIENT_TOO_SLOW));
            return 0;
        }
        long next = state == State.SENDING || state == State.AWAITING_HEAD ? responseDeadline : 0;
        if (clientStalledSince != 0) {
            long recheck = now + SlowClientGuard.RECHECK_NANOS;
            next = next == 0 || recheck - next < 0 ? recheck : next;
        }
        boolean bodyMoving = state == State.SENDING || state == State.STREAMING;
        if (watchingBody && bodyMoving) {
            long bodyDeadline = lastBodyActivity + bodyIdleNanos();
            if (now - bodyDeadline >= 0) {
                fail(ProxyError.of(ProxyError.Kind.BODY_TIMEOUT));
                return 0;
            }
            if (next == 0 || bodyDeadline - next < 0) {
                next = bodyDeadline;
            }
        }
        return next;
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
        if (clientStalledSince == 0 && engine.slowClients().active()) {
            clientStalledSince = clock.nanoTime();
            downstream.wakeAt(engine.slowClients().firstCheck(clientStalledSince));
        }
    }

    /**
     * How long a body may stall: the connector's read timeout while the response streams, its write
     * timeout while the request body is still going up, else the service's body timeout.
     */
    private long bodyIdleNanos() {
        int ms = 0;
        if (ctx.peer != null) {
            ms = state == State.SENDING ? ctx.peer.timeouts().writeMs() : ctx.peer.timeouts().readMs();
        }
        return TimeUnit.MILLISECONDS.toNanos(ms > 0 ? ms : engine.settings().bodyIdleTimeoutMs());
    }

    // ---- endings ----------------------------------------------------------------------------------

    /**
     * The request failed: the client gets the error's answer if no response has started (through
     * the modules' onError and response phases), else the response is cut short.
     */
    private void fail(ProxyError error) {
        if (state == State.DONE) {
            return;
        }
        boolean failingTwice = ctx.error != null && localAnswer != null;
        ctx.error = error;
        if (error.blamesUpstream() && error.source() != ProxyError.Source.UPSTREAM_CONNECT && ctx.peer != null && ctx.upstreams != null) {
            // Connect failures were reported when they happened.
            ctx.upstreams.report(ctx.peer, false);
        }
        dropUpstream();
        if (state == State.STREAMING || state == State.TUNNELLING || failingTwice || error.kind() == ProxyError.Kind.CLIENT_TOO_SLOW) {
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
                logModuleFailure(modules[i], "onError", e);
            }
        }
        answer(response);
    }

    /** A module refused what was passing through (a body over its limit). */
    private void reject(Rejected r) {
        engine.log().debug("{} {}: {}", ctx.request().method(), ctx.path(), r.getMessage());
        dropUpstream();
        if (state == State.DONE) {
            return;
        }
        if (state == State.STREAMING || state == State.TUNNELLING) {
            downstream.abort();
            finish();
            return;
        }
        answer(Verdict.text(r.status(), r.body()));
    }

    private void moduleFailed(ProxyModule module, String phase, Throwable cause) {
        logModuleFailure(module, phase, cause);
        fail(ProxyError.ofModule(module.name(), cause));
    }

    private void logModuleFailure(ProxyModule module, String phase, Throwable cause) {
        if (!moduleFailureLogged) {
            moduleFailureLogged = true;
            engine.log().warn("module {} failed in {} for {} {}", module.name(), phase, ctx.request().method(), ctx.path(), cause);
        } else {
            engine.log().debug("module {} failed again in {}", module.name(), phase, cause);
        }
    }

    /**
     * An exception escaped the engine itself: a bug. The request still ends (with 500 if nothing was
     * sent yet, else the connection is cut) and the logging phase runs; the counter lets tests fail.
     */
    private void crashed(RuntimeException e) {
        ENGINE_FAILURES.increment();
        engine.log().error("exchange for {} {} failed in state {}", ctx.request().method(), ctx.path(), state, e);
        if (state == State.DONE) {
            return;
        }
        try {
            if (ctx.error == null && (state == State.PHASES || state == State.SELECTING || state == State.CONNECTING
                    || state == State.AWAITING_HEAD || state == State.SENDING)) {
                ProxyError error = ProxyError.of(ProxyError.Kind.INTERNAL, e);
                ctx.error = error;
                dropUpstream();
                localAnswer = ErrorResponder.respond(error, grpc);
                releaseQueues();
                state = State.HEAD_PHASES;
                sendLocal(localAnswer);
                return;
            }
        } catch (RuntimeException again) {
            engine.log().debug("error response failed too", again);
        }
        dropUpstream();
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
        if (state == State.DONE) {
            return;
        }
        moveTo(State.DONE);
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
        if (requestHold != null) {
            requestHold.holding = false;
            releaseAll(requestHold.waiting);
        }
        if (responseHold != null) {
            responseHold.holding = false;
            releaseAll(responseHold.waiting);
        }
    }

    private static void releaseAll(ArrayDeque<HttpContent> queue) {
        HttpContent c;
        while (queue != null && (c = queue.poll()) != null) {
            c.release();
        }
    }

    private boolean noPendingBody() {
        return pendingBody == null || pendingBody.isEmpty();
    }

    private boolean isHead() {
        return ctx.request().method().equals(HttpMethod.HEAD);
    }

    private static boolean busy(BodyHold hold) {
        return hold != null && hold.holding;
    }

    /** One direction's body while a module is working on a chunk: the pieces that arrived meanwhile. */
    private static final class BodyHold {
        final ArrayDeque<HttpContent> waiting = new ArrayDeque<>(4);
        boolean holding;
    }
}
