package river.proxy;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Runs one exchange's modules through a phase: request phases in module order, response phases in
 * reverse. A module that answers at once costs nothing; one that waits resumes the chain from the next
 * module on the exchange's event loop, unless the exchange moved on meanwhile (its epoch changed). A
 * body phase that waits holds its direction: pieces arriving meanwhile queue behind it, in order.
 * Every module call is contained: an exception becomes the exchange's module failure.
 */
final class ModulePhases {

    /** The phases that see a message head and may complete later. */
    enum Head {
        UPSTREAM_REQUEST, UPSTREAM_RESPONSE, RESPONSE
    }

    private final Exchange exchange;
    private final ProxyModule[] modules;
    private final RequestContext ctx;
    private final EventLoop loop;
    /** Body phases waiting on a module, per direction; created only when a module waits. */
    private BodyHold requestHold;
    private BodyHold responseHold;
    private boolean failureLogged;

    ModulePhases(Exchange exchange, ProxyModule[] modules, RequestContext ctx, EventLoop loop) {
        this.exchange = exchange;
        this.modules = modules;
        this.ctx = ctx;
        this.loop = loop;
    }

    /** A module threw (or its stage failed): the request fails with a module error (500), never blaming the upstream. */
    void failed(ProxyModule module, String phase, Throwable cause) {
        logFailure(module, phase, cause);
        exchange.fail(ProxyError.ofModule(module.name(), cause));
    }

    /** Logs a module's failure: the first of an exchange as a warning with the module's name, later ones at debug. */
    void logFailure(ProxyModule module, String phase, Throwable cause) {
        if (!failureLogged) {
            failureLogged = true;
            ProxyEngine.LOG.warn("module {} failed in {} for {} {}", module.name(), phase, ctx.request().method(), ctx.path(), cause);
        } else {
            ProxyEngine.LOG.debug("module {} failed again in {}", module.name(), phase, cause);
        }
    }

    // ---- error and logging phases -----------------------------------------------------------------

    /** Runs onError in reverse module order; each module may replace the answer. A throwing module is skipped. */
    Verdict.Respond runError(ProxyError error, Verdict.Respond response) {
        for (int i = modules.length - 1; i >= 0; i--) {
            try {
                response = modules[i].onError(ctx, error, response);
            } catch (RuntimeException e) {
                logFailure(modules[i], "onError", e);
            }
        }
        return response;
    }

    /** Runs onLogging in module order, each module contained: logging must reach every module. */
    void runLogging() {
        for (ProxyModule m : modules) {
            try {
                m.onLogging(ctx);
            } catch (RuntimeException e) {
                ProxyEngine.LOG.warn("module {} failed in onLogging", m.name(), e);
            }
        }
    }

    // ---- request phases ---------------------------------------------------------------------------

    /** Runs onRequest from module {@code from} on; ends in an answer, a failure, or peer selection. */
    void runRequest(int from) {
        for (int i = from; i < modules.length; i++) {
            CompletionStage<Verdict> stage;
            try {
                stage = modules[i].onRequest(ctx);
            } catch (RuntimeException e) {
                failed(modules[i], "onRequest", e);
                return;
            }
            if (stage == Verdict.CONTINUE_NOW) {
                continue;
            }
            CompletableFuture<Verdict> future = stage.toCompletableFuture();
            if (!future.isDone()) {
                ProxyModule module = modules[i];
                int next = i + 1;
                int at = exchange.epoch();
                stage.whenComplete((verdict, error) -> loop.execute(() -> resumeRequest(at, module, next, verdict, error)));
                return;
            }
            Verdict verdict;
            try {
                verdict = future.join();
            } catch (CompletionException e) {
                failed(modules[i], "onRequest", e.getCause());
                return;
            }
            if (verdict instanceof Verdict.Respond respond) {
                exchange.answer(respond);
                return;
            }
        }
        exchange.nextAttempt(null); // the request phases let it through: the first attempt
    }

    private void resumeRequest(int at, ProxyModule module, int next, Verdict verdict, Throwable error) {
        try {
            if (exchange.state() != ExchangeState.PHASES || at != exchange.epoch()) {
                // The client left (or the request failed) while the module was deciding.
                if (verdict instanceof Verdict.Respond respond) {
                    respond.discard();
                }
            } else if (error != null) {
                failed(module, "onRequest", error);
            } else if (verdict instanceof Verdict.Respond respond) {
                exchange.answer(respond);
            } else {
                runRequest(next);
            }
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    // ---- head phases ------------------------------------------------------------------------------

    /**
     * Runs a head phase from module {@code step} on. The upstream request goes on to be sent; the
     * upstream response, cleared of hop-by-hop headers, goes on to the response phase; the response
     * to {@link Exchange#responsePhasesDone}.
     */
    void runHead(Head phase, int step, HttpMessage message) {
        int n = modules.length;
        for (; step < n; step++) {
            ProxyModule module = phase == Head.UPSTREAM_REQUEST ? modules[step] : modules[n - 1 - step];
            CompletionStage<Void> stage;
            try {
                stage = switch (phase) {
                    case UPSTREAM_REQUEST -> module.onUpstreamRequest(ctx, (HttpRequest) message);
                    case UPSTREAM_RESPONSE -> module.onUpstreamResponse(ctx, (HttpResponse) message);
                    case RESPONSE -> module.onResponse(ctx, (HttpResponse) message);
                };
            } catch (Rejected r) {
                exchange.reject(r);
                return;
            } catch (RuntimeException e) {
                failed(module, phase.name(), e);
                return;
            }
            if (stage == ProxyModule.DONE) {
                continue;
            }
            CompletableFuture<Void> future = stage.toCompletableFuture();
            if (!future.isDone()) {
                int next = step + 1;
                int at = exchange.epoch();
                stage.whenComplete((ignored, error) -> loop.execute(() -> resumeHead(at, phase, module, next, message, error)));
                if (phase == Head.UPSTREAM_REQUEST) {
                    exchange.readAhead(); // the module may be waiting for the body: let it come
                }
                return;
            }
            if (future.isCompletedExceptionally()) {
                resumeHead(exchange.epoch(), phase, module, step + 1, message, future.handle((v, e) -> e).join());
                return;
            }
        }
        switch (phase) {
            case UPSTREAM_REQUEST -> exchange.sendRequestHead((HttpRequest) message);
            case UPSTREAM_RESPONSE -> {
                ForwardedHeaders.forClient((HttpResponse) message);
                runHead(Head.RESPONSE, 0, message);
            }
            case RESPONSE -> exchange.responsePhasesDone((HttpResponse) message);
        }
    }

    private void resumeHead(int at, Head phase, ProxyModule module, int next, HttpMessage message, Throwable error) {
        try {
            if (at != exchange.epoch() || exchange.state() == ExchangeState.DONE) {
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof Rejected r) {
                exchange.reject(r);
            } else if (cause != null) {
                failed(module, phase.name(), cause);
            } else {
                runHead(phase, next, message);
            }
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    // ---- body phases ------------------------------------------------------------------------------

    /** A body piece enters its direction's phases, behind any piece a module is still holding. */
    void runBody(boolean toUpstream, HttpContent chunk) {
        BodyHold hold = toUpstream ? requestHold : responseHold;
        if (hold != null && hold.holding) {
            hold.waiting.add(chunk);
            hold.waitingBytes += chunk.content().readableBytes();
            if (!hold.sourcePaused && hold.waitingBytes >= hold.readAheadBytes) {
                hold.sourcePaused = true; // the module's read-ahead is full: push back on the source
                exchange.holdSource(toUpstream, true);
            }
        } else {
            runBody(toUpstream, 0, chunk);
        }
    }

    /** Whether a module is holding this direction's body (what passed it so far is not all there is). */
    boolean holding(boolean toUpstream) {
        BodyHold hold = toUpstream ? requestHold : responseHold;
        return hold != null && hold.holding;
    }

    /** Whether a module holding this direction's body wants its source paused (no reading ahead, or read ahead enough). */
    boolean sourceHeld(boolean toUpstream) {
        BodyHold hold = toUpstream ? requestHold : responseHold;
        return hold != null && hold.holding && hold.sourcePaused;
    }

    /** Drops what either direction holds: the exchange will not send it. */
    void releaseHeld() {
        release(requestHold);
        release(responseHold);
    }

    private void runBody(boolean toUpstream, int step, HttpContent chunk) {
        int n = modules.length;
        for (; step < n; step++) {
            ProxyModule module = toUpstream ? modules[step] : modules[n - 1 - step];
            HttpContent in = chunk;
            try {
                chunk = toUpstream ? module.onRequestBody(ctx, in) : module.onResponseBody(ctx, in);
            } catch (Rejected r) {
                in.release();
                exchange.reject(r);
                return;
            } catch (RuntimeException e) {
                in.release();
                failed(module, toUpstream ? "onRequestBody" : "onResponseBody", e);
                return;
            }
            if (!passes(toUpstream, module, step, chunk)) {
                return;
            }
        }
        exchange.bodyPhasesDone(toUpstream, chunk);
    }

    /** Whether what a module gave goes on to the next one: not when it kept the piece, nor when it will give it later. */
    private boolean passes(boolean toUpstream, ProxyModule module, int step, HttpContent chunk) {
        if (chunk == ProxyModule.KEPT) {
            return false; // the module buffers it: nothing goes on this time
        }
        if (chunk instanceof ProxyModule.PendingChunk pending) {
            hold(toUpstream, module, step + 1, pending);
            return false;
        }
        return true;
    }

    /** A module will give the chunk later: the direction's source pauses until it does (or once it read ahead enough). */
    private void hold(boolean toUpstream, ProxyModule module, int next, ProxyModule.PendingChunk pending) {
        BodyHold hold = toUpstream ? requestHold : responseHold;
        if (hold == null) {
            hold = new BodyHold();
            if (toUpstream) {
                requestHold = hold;
            } else {
                responseHold = hold;
            }
        }
        if (!toUpstream) {
            exchange.responseBodyHeld(); // the client has the head meanwhile
        }
        hold.holding = true;
        hold.readAheadBytes = pending.readAheadBytes;
        // A hold may follow another (a paused head, then its body callback): change the source only
        // when this hold wants it otherwise, in either direction.
        boolean pause = hold.waitingBytes >= hold.readAheadBytes;
        if (pause != hold.sourcePaused) {
            hold.sourcePaused = pause;
            exchange.holdSource(toUpstream, pause);
        }
        BodyHold held = hold;
        int at = exchange.epoch();
        pending.stage.whenComplete((chunk, error) -> loop.execute(() -> resumeBody(toUpstream, held, at, module, next, chunk, error)));
    }

    private void resumeBody(boolean toUpstream, BodyHold hold, int at, ProxyModule module, int next, HttpContent chunk, Throwable error) {
        try {
            if (!hold.holding || !exchange.takesBody(toUpstream, at)) {
                ReferenceCountUtil.release(chunk);
                return;
            }
            hold.holding = false;
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                if (cause instanceof Rejected r) {
                    exchange.reject(r);
                } else {
                    failed(module, toUpstream ? "onRequestBody" : "onResponseBody", cause);
                }
                return;
            }
            if (passes(toUpstream, module, next - 1, chunk)) {
                runBody(toUpstream, next, chunk);
            }
            HttpContent waiting;
            while (!hold.holding && exchange.takesBody(toUpstream, exchange.epoch()) && (waiting = hold.waiting.poll()) != null) {
                hold.waitingBytes -= waiting.content().readableBytes();
                runBody(toUpstream, 0, waiting);
            }
            if (!hold.holding && exchange.state() != ExchangeState.DONE) {
                hold.sourcePaused = false;
                exchange.holdSource(toUpstream, false);
            }
        } catch (RuntimeException e) {
            exchange.crashed(e);
        }
    }

    private static void release(BodyHold hold) {
        if (hold != null) {
            hold.holding = false;
            hold.sourcePaused = false;
            hold.waitingBytes = 0;
            releaseAll(hold.waiting);
        }
    }

    /** Releases every body piece in {@code queue} (which may be null). */
    static void releaseAll(ArrayDeque<HttpContent> queue) {
        HttpContent c;
        while (queue != null && (c = queue.poll()) != null) {
            c.release();
        }
    }

    /** One direction's body while a module works on a piece: the pieces that arrived meanwhile. */
    private static final class BodyHold {
        final ArrayDeque<HttpContent> waiting = new ArrayDeque<>(4);
        /** The bytes in {@link #waiting}. */
        long waitingBytes;
        /** How many bytes may wait before the source pauses (the holding module's read-ahead; 0: pause at once). */
        int readAheadBytes;
        boolean holding;
        /** This hold paused the direction's source. */
        boolean sourcePaused;
    }
}
