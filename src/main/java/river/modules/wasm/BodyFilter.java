package river.modules.wasm;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.CompletableFuture;
import river.proxy.ProxyModule;
import river.proxy.Rejected;
import river.proxy.Verdict;

/**
 * Passes each body piece of either direction through a plugin, as proxy-wasm 0.2.1 has it: the body
 * callback is given what River buffers for it (the pieces it kept plus the new one) and whether the
 * body ends; Continue lets that go on (as the plugin left it), Pause (StopIterationAndBuffer) keeps it
 * for the next call. Trailers go through the trailers callback (the body callback then never sees the
 * end, as in Envoy), whose action decides for the body's end. A Pause while the plugin has a call-out
 * in flight, or at the body's end, pauses the direction ({@link Pauses}) until a call-out's callback
 * continues it or answers; River meanwhile reads on until it holds {@code max-body-bytes}, then stops
 * reading. A buffer past {@code max-body-bytes} fails as Envoy's does: a request with 413, a response
 * (whose head is out) is cut short, or passes on unchanged when the plugin is fail-open.
 */
final class BodyFilter {
    private final WasmPlugin plugin;

    BodyFilter(WasmPlugin plugin) {
        this.plugin = plugin;
    }

    /**
     * A piece of {@code s}'s body (the request's, else the response's) through {@code vm}: what goes on,
     * {@link ProxyModule#KEPT}, or {@link ProxyModule#laterReadingAhead} while paused.
     */
    HttpContent filter(PluginVm vm, PluginVm.Stream s, boolean request, HttpContent chunk) {
        BodyBuffer b = request ? s.requestBody : s.responseBody;
        boolean last = chunk instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) chunk).trailingHeaders() : null;
        boolean hasTrailers = trailers != null && !trailers.isEmpty();
        boolean alive = vm != null && !vm.broken() && vm.stream(s.id) == s;
        boolean bodyCallback = alive && vm.wantsBody(request);
        boolean trailersCallback = alive && hasTrailers && vm.wantsTrailers(request);
        if (!bodyCallback && !trailersCallback) {
            return b.data == null ? chunk : passOn(b, request, chunk, last, trailers);
        }
        ByteBuf in = chunk.content();
        if (bodyCallback && !last && !in.isReadable()) {
            return chunk;
        }
        if (bodyCallback && (long) b.size() + in.readableBytes() > plugin.config().maxBodyBytes()) {
            return tooBig(b, request, chunk, last, trailers);
        }
        // The chunk is released only once the callbacks are through: when they fail, the engine releases it.
        boolean data = in.isReadable();
        b.add(in);
        boolean endOfStream = last && !hasTrailers;
        int action = 0;
        if (request) {
            s.continuedRequest = false;
        } else {
            s.continuedResponse = false;
        }
        if (bodyCallback && (data || endOfStream)) {
            b.endOfStream = endOfStream;
            try {
                action = vm.body(s, request, b.size(), endOfStream);
            } catch (RuntimeException e) {
                return failed(vm, b, request, chunk, last, trailers, e);
            }
        }
        if (hasTrailers) {
            // The end of a body with trailers is the trailers callback's to decide (Continue without one).
            action = trailersCallback && s.local == null ? trailers(vm, s, b, request, trailers) : 0;
        }
        if (s.local != null) {
            Verdict.Respond local = s.local;
            s.local = null;
            b.release(); // answered from the callback itself; the engine releases the chunk
            throw plugin.answered(s, request, local);
        }
        chunk.release();
        if (action == 0 || (request ? s.continuedRequest : s.continuedResponse)) {
            return emit(b, request, last, trailers);
        }
        if (!last && s.pendingCalls == 0) {
            return ProxyModule.KEPT;
        }
        return pause(s, b, request, last, trailersCallback ? trailers : null, trailers);
    }

    /**
     * The plugin paused the body with a call-out in flight, or at its end: River waits for the call-out's
     * callback (the trailers, if any, readable and changeable meanwhile as map 1 or 3), reading on
     * until it holds {@code max-body-bytes} for the plugin.
     */
    private HttpContent pause(PluginVm.Stream s, BodyBuffer b, boolean request, boolean last, HttpHeaders shown, HttpHeaders trailers) {
        CompletableFuture<HttpContent> stage = new CompletableFuture<>();
        b.trailers = shown;
        plugin.pauses().pause(s, request, true, last, stage, (outcome, local) -> {
            b.trailers = null;
            switch (outcome) {
                case CONTINUE -> stage.complete(emit(b, request, last, trailers));
                case KEEP -> stage.complete(ProxyModule.KEPT);
                case ANSWER -> {
                    b.release();
                    stage.completeExceptionally(plugin.answered(s, request, local));
                }
                case FAIL -> {
                    b.release();
                    stage.completeExceptionally(plugin.refused(s));
                }
            }
        });
        return ProxyModule.laterReadingAhead(stage, last ? 0 : plugin.config().maxBodyBytes() - b.size());
    }

    /** The trailers callback's action; 0 when it failed and the plugin is fail-open. */
    private int trailers(PluginVm vm, PluginVm.Stream s, BodyBuffer b, boolean request, HttpHeaders trailers) {
        b.trailers = trailers;
        try {
            return vm.trailers(s, request, trailers.size());
        } catch (RuntimeException e) {
            b.trailers = null;
            if (!plugin.failedInBody(vm, request ? "proxy_on_request_trailers" : "proxy_on_response_trailers", e)) {
                b.release();
                throw new IllegalStateException(plugin.name() + " failed in its trailers callback", e);
            }
            return 0;
        } finally {
            b.trailers = null;
        }
    }

    /** The buffered bytes with the arriving piece, unchanged: River stops giving this body to the plugin. */
    private HttpContent passOn(BodyBuffer b, boolean request, HttpContent chunk, boolean last, HttpHeaders trailers) {
        b.add(chunk.content());
        chunk.release();
        return emit(b, request, last, trailers);
    }

    /** What the plugin let go: the buffered bytes (then nothing is kept), the trailers with them at the end. */
    HttpContent emit(BodyBuffer b, boolean request, boolean last, HttpHeaders trailers) {
        long size = b.size();
        ByteBuf out = b.take();
        if (request) {
            // The whole body seen before the head went: its exact length; else (or with trailers) chunked.
            b.framingDecided(last && (trailers == null || trailers.isEmpty()), size);
        }
        if (!last) {
            return new DefaultHttpContent(out);
        }
        return trailers == null || trailers.isEmpty() ? new DefaultLastHttpContent(out) : new DefaultLastHttpContent(out, trailers);
    }

    private HttpContent tooBig(BodyBuffer b, boolean request, HttpContent chunk, boolean last, HttpHeaders trailers) {
        int limit = plugin.config().maxBodyBytes();
        if (request) {
            b.release();
            plugin.log(3, "request body over max-body-bytes (" + limit + "): 413");
            throw new Rejected(413, "Payload Too Large\n", "request body over the plugin's max-body-bytes");
        }
        if (plugin.config().failOpen()) {
            b.active = false;
            plugin.log(3, "response body over max-body-bytes (" + limit + "): sent on unchanged (fail-open)");
            return passOn(b, false, chunk, last, trailers);
        }
        b.release();
        plugin.log(3, "response body over max-body-bytes (" + limit + "): the response is cut short");
        throw new Rejected(500, "Internal Server Error\n", "response body over the plugin's max-body-bytes");
    }

    /**
     * The body callback failed: fail-open lets what was buffered go on (and the rest unseen); else the
     * request fails (the engine releases the chunk it gave).
     */
    private HttpContent failed(PluginVm vm, BodyBuffer b, boolean request, HttpContent chunk, boolean last, HttpHeaders trailers,
            RuntimeException e) {
        if (plugin.failedInBody(vm, request ? "proxy_on_request_body" : "proxy_on_response_body", e)) {
            b.active = false;
            chunk.release();
            return emit(b, request, last, trailers);
        }
        b.release();
        throw new IllegalStateException(plugin.name() + " failed in its body callback", e);
    }
}
