package river.proxy;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.CompletionStage;

/**
 * The extension point of the engine: one method per phase of a request, in Pingora's order, each with
 * a do-nothing default so a module implements only what it needs. Modules are composed per service;
 * each phase runs the service's modules in order. Every method runs on the request's event loop and
 * must not block; {@link #onRequest} may wait by returning an incomplete stage.
 */
public interface ProxyModule {

    /** Request arrival and request filters: continue, or answer the request here. */
    default CompletionStage<Verdict> onRequest(RequestContext ctx) {
        return Verdict.CONTINUE_NOW;
    }

    /** The request about to be sent upstream; its headers may be changed. */
    default void onUpstreamRequest(RequestContext ctx, HttpRequest upstreamRequest) {}

    /** The response head as it came from upstream; its headers may be changed. */
    default void onUpstreamResponse(RequestContext ctx, HttpResponse upstreamResponse) {}

    /** The response head about to be sent to the client, proxied or local. */
    default void onResponse(RequestContext ctx, HttpResponse response) {}

    /** A request body chunk on its way upstream; returns the chunk to send (the same or a new one). */
    default HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
        return chunk;
    }

    /** A response body chunk on its way to the client; returns the chunk to send. */
    default HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
        return chunk;
    }

    /** Runs exactly once per request, after it ended in any way. */
    default void onLogging(RequestContext ctx) {}
}
