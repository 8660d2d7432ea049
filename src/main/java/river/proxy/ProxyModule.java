package river.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import river.upstream.Peer;

/**
 * The extension point of the engine: one method per phase of a request, in Pingora's order
 * ({@code ProxyHttp}), each with a do-nothing default so a module implements only what it needs.
 * Request phases run the service's modules in order; response phases run them in reverse (the unwind
 * a decorator expects: the first module sees the request first and the response last).
 *
 * <p>Every method runs on the request's event loop and must not block. Phases that may wait return a
 * stage: a module that answers at once returns {@link #DONE} (or {@link Verdict#CONTINUE_NOW}), which
 * costs nothing; one that must wait (a cache lookup, a WASM filter calling out) returns a stage it
 * completes later, from any thread. Body phases return the chunk to pass on, or {@link #later} of a
 * stage that will give it. An exception thrown by any phase gives this request an error response
 * (500 from a module's bug) and is logged once with the module's name; it never blames the upstream.
 */
public interface ProxyModule {

    /** The completed stage of a phase that did not need to wait. */
    CompletionStage<Void> DONE = CompletableFuture.completedFuture(null);

    /** The module's name in logs. */
    default String name() {
        return getClass().getSimpleName();
    }

    /** Request arrival and request filters: continue, or answer the request here. */
    default CompletionStage<Verdict> onRequest(RequestContext ctx) {
        return Verdict.CONTINUE_NOW;
    }

    /**
     * Pingora's {@code upstream_peer}: the peer this attempt goes to. {@code chosen} is what the
     * request's selector (or an earlier module) picked, null when none is available; return it, another
     * peer, or null to fail the request with 502.
     */
    default Peer upstreamPeer(RequestContext ctx, Peer chosen) {
        return chosen;
    }

    /**
     * Connecting to {@code peer} failed: return the error (the default), or the error with another
     * retry decision ({@link ProxyError#withRetry}) to try another peer or stop here.
     */
    default ProxyError failToConnect(RequestContext ctx, Peer peer, ProxyError error) {
        return error;
    }

    /**
     * The request about to be sent upstream; its headers may be changed. While a module's stage is
     * pending, the request body is read ahead through the body phases (what they pass on waits behind
     * the head, a bounded amount): a module that rewrites the body can hold the head until it knows
     * the body's new length.
     */
    default CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest upstreamRequest) {
        return DONE;
    }

    /** The response head as it came from upstream; its headers may be changed. */
    default CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse upstreamResponse) {
        return DONE;
    }

    /** The response head about to be sent to the client: proxied, local, or an error. */
    default CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
        return DONE;
    }

    /**
     * A request body chunk on its way upstream; returns the chunk to send (the same, a new one, {@link #KEPT}
     * or {@link #later}).
     */
    default HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
        return chunk;
    }

    /** A response body chunk on its way to the client; returns the chunk to send (or {@link #KEPT} or {@link #later}). */
    default HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
        return chunk;
    }

    /**
     * The request failed before its response started: {@code response} is what the client will get
     * (from {@link ErrorResponder}, or an earlier module); return it or a replacement.
     */
    default Verdict.Respond onError(RequestContext ctx, ProxyError error, Verdict.Respond response) {
        return response;
    }

    /** Runs exactly once per request, after it ended in any way, even when a phase failed. */
    default void onLogging(RequestContext ctx) {}

    /**
     * What a body phase returns when the chunk it passes on is not ready yet: the engine holds the
     * body in that direction (reading pauses) until {@code stage} gives the chunk, then goes on with
     * the next module.
     */
    static HttpContent later(CompletionStage<HttpContent> stage) {
        return new PendingChunk(stage, 0);
    }

    /**
     * {@link #later}, for a module that waits on something other than the body (a call-out) and wants
     * the body ready when it is done: the direction's source is read on while {@code stage} is pending,
     * the pieces that arrive queuing in order (they reach the module after the chunk {@code stage}
     * gives), until they hold {@code readAheadBytes}; only then does reading pause.
     * For either form, the stage may give {@link #KEPT} (nothing goes on; the queued pieces come next),
     * another {@link #later} (the direction stays held), or fail with {@link Rejected} (as if thrown).
     */
    static HttpContent laterReadingAhead(CompletionStage<HttpContent> stage, int readAheadBytes) {
        return new PendingChunk(stage, Math.max(0, readAheadBytes));
    }

    /**
     * What a body phase returns when it keeps the chunk it was given (buffering it, to pass its bytes
     * on with a later chunk): nothing goes on this time, and the engine reads on. Never for the last
     * chunk, which must carry on whatever the module kept. The module bounds what it keeps.
     */
    HttpContent KEPT = new Kept();

    /** The type of {@link #KEPT}; carries no data. */
    final class Kept extends DefaultHttpContent {
        private Kept() {
            super(Unpooled.EMPTY_BUFFER);
        }
    }

    /** The marker {@link #later} returns; carries no data of its own. */
    final class PendingChunk extends DefaultHttpContent {
        final CompletionStage<HttpContent> stage;
        /** How many bytes of the pieces arriving meanwhile the engine queues before it pauses their source. */
        final int readAheadBytes;

        private PendingChunk(CompletionStage<HttpContent> stage, int readAheadBytes) {
            super(Unpooled.EMPTY_BUFFER);
            this.stage = stage;
            this.readAheadBytes = readAheadBytes;
        }
    }
}
