package river.modules.wasm;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import river.proxy.ProxyModule;
import river.proxy.Rejected;

/**
 * Passes each body piece of either direction through a plugin, as proxy-wasm 0.2.1 has it: the body
 * callback is given what River buffers for it (the pieces it kept plus the new one) and whether the
 * body ends; Continue lets that go on (as the plugin left it), StopIterationAndBuffer keeps it for the
 * next call. Trailers go through the trailers callback (the body callback then never sees the end, as
 * in Envoy). A buffer past the plugin's {@code max-body-bytes} fails as Envoy's does: a request with
 * 413, a response (whose head is out) is cut short, or passes on unchanged when the plugin is fail-open.
 */
final class BodyFilter {
    private final WasmPlugin plugin;

    BodyFilter(WasmPlugin plugin) {
        this.plugin = plugin;
    }

    /** A piece of {@code s}'s body (the request's, else the response's) through {@code vm}: what goes on, or {@link ProxyModule#KEPT}. */
    HttpContent filter(PluginVm vm, PluginVm.Stream s, boolean request, HttpContent chunk) {
        BodyBuffer b = request ? s.requestBody : s.responseBody;
        boolean last = chunk instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) chunk).trailingHeaders() : null;
        boolean hasTrailers = trailers != null && !trailers.isEmpty();
        boolean alive = vm != null && !vm.broken() && vm.stream(s.id) == s;
        if (!alive || !vm.wantsBody(request)) {
            if (alive && hasTrailers) {
                trailers(vm, s, b, request, trailers);
            }
            return b.data == null ? chunk : passOn(b, request, chunk, last, trailers);
        }
        ByteBuf in = chunk.content();
        if (!last && !in.isReadable()) {
            return chunk;
        }
        if ((long) b.size() + in.readableBytes() > plugin.config().maxBodyBytes()) {
            return tooBig(b, request, chunk, last, trailers);
        }
        // The chunk is released only once the callbacks are through: when they fail, the engine releases it.
        boolean data = in.isReadable();
        b.add(in);
        boolean endOfStream = last && !hasTrailers;
        int action = 0;
        if (data || endOfStream) {
            b.endOfStream = endOfStream;
            try {
                action = vm.body(s, request, b.size(), endOfStream);
            } catch (RuntimeException e) {
                return failed(vm, b, request, chunk, last, trailers, e);
            }
        }
        if (hasTrailers) {
            trailers(vm, s, b, request, trailers);
        }
        chunk.release();
        if (action != 0 && !last) {
            return ProxyModule.KEPT;
        }
        if (action != 0) {
            plugin.log(3, "kept buffering the " + (request ? "request" : "response") + " body at its end; it goes on");
        }
        return emit(b, request, last, trailers);
    }

    private void trailers(PluginVm vm, PluginVm.Stream s, BodyBuffer b, boolean request, HttpHeaders trailers) {
        if (!vm.wantsTrailers(request)) {
            return;
        }
        b.trailers = trailers;
        try {
            vm.trailers(s, request, trailers.size());
        } catch (RuntimeException e) {
            b.trailers = null;
            if (!plugin.failedInBody(vm, request ? "proxy_on_request_trailers" : "proxy_on_response_trailers", e)) {
                b.release();
                throw new IllegalStateException(plugin.name() + " failed in its trailers callback", e);
            }
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

    private HttpContent emit(BodyBuffer b, boolean request, boolean last, HttpHeaders trailers) {
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
