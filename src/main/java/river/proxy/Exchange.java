package river.proxy;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;
import river.upstream.Peer;

/**
 * One request from arrival to logging, as a state machine driven by events: the client's head, body
 * and departure; the upstream's connection, head, body and failure; the timer; writability. Every
 * event is handled on the client's event loop (upstream events from another loop are handed over
 * first) and every transition goes through {@link #moveTo}, so this class reads as the request's
 * lifecycle, top to bottom. The mechanics are delegated: module phases to {@link ModulePhases}, the
 * upstream connection and what crosses it to {@link UpstreamLeg}, deadlines to {@link Deadlines},
 * peer choice to {@link PeerAttempts}, errors to {@link ProxyError} and {@link ErrorResponder}, gRPC
 * to {@link GrpcCalls}, WebSocket to {@link WebSocketUpgrade}, header rules to {@link ForwardedHeaders}.
 */
public final class Exchange {
    /** Engine bugs (an exception escaping an event handler, an illegal transition); tests expect none. */
    private static final LongAdder ENGINE_FAILURES = new LongAdder();

    private final ProxyEngine engine;
    private final Downstream downstream;
    private final NanoClock clock;
    private final RequestContext ctx;
    private final ModulePhases phases;
    private final Deadlines deadlines;
    private final PeerAttempts attempts = new PeerAttempts();
    private final UpstreamLeg leg;
    private final boolean grpc;

    private ExchangeState state = ExchangeState.PHASES;
    /** Bumped on every transition: a phase that completes later resumes only if nothing moved meanwhile. */
    private int epoch;
    /** The local or error answer going through the response phases, or null for a proxied response. */
    private Verdict.Respond localAnswer;
    /** A 101 from the origin is going through the response phases. */
    private boolean switching;
    private boolean requestFullyRead;

    Exchange(ProxyEngine engine, Downstream downstream, HttpRequest request, InetSocketAddress client, boolean secure) {
        this.engine = engine;
        this.downstream = engine.compressing(downstream, request);
        this.clock = engine.clock();
        this.ctx = new RequestContext(engine.service(), client, secure, request, clock.nanoTime());
        ctx.http2 = downstream.isHttp2();
        this.phases = new ModulePhases(this, engine.modules(), ctx, downstream.eventLoop());
        this.deadlines = new Deadlines(engine.slowClients(), engine.settings(), this.downstream);
        this.grpc = GrpcCalls.isGrpc(request);
        this.leg = new UpstreamLeg(this, engine, this.downstream, phases, deadlines, attempts, grpc);
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
        leg.clientWritable();
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
            leg.clientLeft(state == ExchangeState.HEAD_PHASES || state == ExchangeState.STREAMING);
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

    /**
     * Chooses the peer of the next attempt and connects to it: the first attempt (the request phases
     * let the request through), a repeat of one that never reached the origin, or, after a failed
     * connect, another if the error allows it.
     *
     * @param connectFailure why the last attempt's connect failed (already reported), or null
     */
    void nextAttempt(Throwable connectFailure) {
        Peer peer;
        try {
            ProxyError error = connectFailure == null ? null : attempts.afterConnectFailure(ctx, engine.modules(), connectFailure);
            if (error != null) {
                fail(error);
                return;
            }
            moveTo(ExchangeState.SELECTING);
            peer = attempts.choose(ctx, engine.modules(), engine.selector());
        } catch (PeerAttempts.ModuleFailure f) {
            phases.failed(f.module, f.phase, f.getCause());
            return;
        }
        if (peer == null) {
            fail(ProxyError.of(ProxyError.Kind.NO_PEER));
        } else if (grpc && !GrpcCalls.canCarry(peer)) {
            fail(ProxyError.of(ProxyError.Kind.NEEDS_HTTP2));
        } else {
            moveTo(ExchangeState.CONNECTING);
            leg.connect(peer);
        }
    }

    // ---- sending ----------------------------------------------------------------------------------

    /** The upstream-request phase is done: the head goes up, and with it the body read so far. */
    void sendRequestHead(HttpRequest upstreamRequest) {
        boolean whole = leg.sendHead(upstreamRequest);
        long now = clock.nanoTime();
        deadlines.expectResponse(now, ctx.peer);
        moveTo(whole ? ExchangeState.AWAITING_HEAD : ExchangeState.SENDING);
        if (!whole) {
            downstream.setReading(leg.writable() && !phases.sourceHeld(true));
            deadlines.bodyMoved(now, ctx.peer, true);
        }
    }

    /** A body piece came out of its direction's phases. */
    void bodyPhasesDone(boolean toUpstream, HttpContent chunk) {
        if (!toUpstream) {
            leg.sendResponseBody(chunk);
        } else if (leg.sendRequestBody(chunk)) {
            if (chunk instanceof LastHttpContent && state == ExchangeState.SENDING) {
                moveTo(ExchangeState.AWAITING_HEAD);
            }
            deadlines.bodyMoved(clock.nanoTime(), ctx.peer, state == ExchangeState.SENDING);
        }
    }

    /** A module holds the upstream request head: the request body is read ahead, up to the leg's bound. */
    void readAhead() {
        if (state == ExchangeState.CONNECTING && !requestFullyRead) {
            leg.readAhead();
        }
    }

    /** Whether a body piece a module gave back later may still go on (else it is dropped). */
    boolean takesBody(boolean toUpstream, int at) {
        return state != ExchangeState.DONE && (toUpstream ? localAnswer == null : at == epoch);
    }

    /** Pauses or resumes the source of a direction whose body a module holds. */
    void holdSource(boolean toUpstream, boolean held) {
        leg.holdSource(toUpstream, held);
        if (toUpstream && !held && (state == ExchangeState.SENDING || state == ExchangeState.AWAITING_HEAD)) {
            // The origin had to wait for the body the module held: its timers count from now.
            long now = clock.nanoTime();
            deadlines.expectResponse(now, ctx.peer);
            deadlines.bodyMoved(now, ctx.peer, true);
        }
    }

    /** A module holds a response body piece: the head, written but not flushed (it waits for a piece), goes now. */
    void responseBodyHeld() {
        if (state == ExchangeState.STREAMING) {
            downstream.flush();
        }
    }

    // ---- responses --------------------------------------------------------------------------------

    /**
     * The origin's response head: a final one goes through the upstream-response, then the response
     * phases; an accepted switch (a WebSocket's 101) through the response phases, then to a tunnel.
     */
    void responseHead(HttpResponse response, boolean switchingProtocols) {
        moveTo(ExchangeState.HEAD_PHASES);
        switching |= switchingProtocols;
        phases.runHead(switchingProtocols ? ModulePhases.Head.RESPONSE : ModulePhases.Head.UPSTREAM_RESPONSE, 0, response);
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

    /** The response phases are done with the head: it goes to the client. */
    void responsePhasesDone(HttpResponse response) {
        if (localAnswer != null) {
            sendLocal();
        } else if (switching) {
            joinTunnel(response);
        } else {
            sendProxiedHead(response);
        }
    }

    private void sendProxiedHead(HttpResponse response) {
        long now = clock.nanoTime();
        ctx.responded(response.status(), now);
        deadlines.headSent(now);
        moveTo(ExchangeState.STREAMING);
        downstream.sendHead(response, leg.responseBodyFollows());
        deadlines.bodyMoved(now, ctx.peer, false);
        leg.streamResponse();
    }

    private void joinTunnel(HttpResponse switchingResponse) {
        ctx.responded(switchingResponse.status(), clock.nanoTime());
        moveTo(ExchangeState.TUNNELLING);
        WebSocketUpgrade.join(downstream, leg.detach(), switchingResponse, engine.settings().tunnelIdleTimeoutMs());
        finish();
    }

    private void sendLocal() {
        Verdict.Respond respond = localAnswer;
        localAnswer = null;
        ctx.responded(grpc && ctx.error != null ? ctx.error.status() : respond.head().status(), clock.nanoTime());
        moveTo(ExchangeState.STREAMING);
        ctx.bytesOut += LocalAnswer.send(downstream, respond, ctx.headRequest());
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
            if (state == ExchangeState.SENDING && phases.holding(true)) {
                // A module holds the request body: the origin cannot answer what it has not received,
                // and the module bounds its own hold (a plugin's pause-timeout-ms). The upstream's
                // timers start again when the hold ends (holdSource).
                return 0;
            }
            Deadlines.Expired expired = deadlines.check(now, state, ctx.peer, ctx.bytesOut);
            if (expired == Deadlines.Expired.NONE) {
                return deadlines.next();
            }
            fail(ProxyError.of(expired.kind));
            return 0;
        } catch (RuntimeException e) {
            crashed(e);
            return 0;
        }
    }

    // ---- endings ----------------------------------------------------------------------------------

    /**
     * The request failed: the client gets the error's answer if no response has started (through
     * the modules' onError and response phases), else the response is cut short.
     */
    void fail(ProxyError error) {
        if (state == ExchangeState.DONE) {
            return;
        }
        boolean failingTwice = ctx.error != null && localAnswer != null;
        ctx.error = error;
        leg.failed(error);
        if (responseStarted() || failingTwice || error.kind() == ProxyError.Kind.CLIENT_TOO_SLOW) {
            abort();
        } else {
            answer(phases.runError(error, ErrorResponder.respond(error, grpc)));
        }
    }

    /** A module refused what was passing through (a body over its limit). */
    void reject(Rejected r) {
        engine.log().debug("{} {}: {}", ctx.request().method(), ctx.path(), r.getMessage());
        leg.discard();
        if (responseStarted() || state == ExchangeState.DONE) {
            if (r.answer() != null) {
                r.answer().discard();
            }
            if (state != ExchangeState.DONE) {
                abort();
            }
        } else {
            answer(r.answer() != null ? r.answer() : Verdict.text(r.status(), r.body()));
        }
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
        leg.discard();
        if (!responseStarted() && state != ExchangeState.HEAD_PHASES && ctx.error == null) {
            try {
                ctx.error = ProxyError.of(ProxyError.Kind.INTERNAL, e);
                localAnswer = ErrorResponder.respond(ctx.error, grpc);
                releaseQueues();
                moveTo(ExchangeState.HEAD_PHASES); // then straight to sending: the phases are what failed
                sendLocal();
                return;
            } catch (RuntimeException again) {
                engine.log().debug("error response failed too", again);
            }
        }
        abort();
    }

    /** Whether the client has the response head (or a tunnel): an error can only cut it short. */
    private boolean responseStarted() {
        return state == ExchangeState.STREAMING || state == ExchangeState.TUNNELLING;
    }

    private void abort() {
        downstream.abort();
        finish();
    }

    /** The whole response went to the client. */
    void complete() {
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
        if (downstream instanceof CompressingDownstream compressing) {
            compressing.release();
        }
        if (localAnswer != null) {
            localAnswer.discard();
            localAnswer = null;
        }
        ctx.endNanos = clock.nanoTime() - ctx.startNanos();
        phases.runLogging();
    }

    /** Releases every body piece still queued, in either direction. */
    private void releaseQueues() {
        leg.releaseQueues();
        phases.releaseHeld();
    }
}
