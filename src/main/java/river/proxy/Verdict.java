package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** What a request phase decided: go on to the next phase, or answer the request here. */
public sealed interface Verdict {

    /** Continue with the next module and, after the last, with proxying. */
    Verdict CONTINUE = new Continue();

    /** An already completed {@link #CONTINUE}, returned by modules that do not wait. */
    CompletionStage<Verdict> CONTINUE_NOW = CompletableFuture.completedFuture(CONTINUE);

    record Continue() implements Verdict {}

    /**
     * An answer with a status and a plain-text body (none when empty), as filters give when they
     * refuse a request.
     */
    static Respond text(int status, String body) {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpResponseStatus.valueOf(status));
        head.headers().setInt(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (bytes.length > 0) {
            head.headers().set(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        }
        return new Respond(head, bytes.length == 0 ? new Body.Empty() : new Body.Bytes(io.netty.buffer.Unpooled.wrappedBuffer(bytes)));
    }

    /** {@link #text} as an already completed stage, for a request phase's answer. */
    static CompletionStage<Verdict> textNow(int status, String body) {
        return CompletableFuture.completedFuture(text(status, body));
    }

    /** Answer with this head and body; no later request phase runs and nothing is proxied. */
    record Respond(HttpResponse head, Body body) implements Verdict {
        /** Frees what the body holds (a buffer, an open file) when the answer will never be sent. */
        public void discard() {
            if (body instanceof Body.Bytes bytes) {
                bytes.content().release();
            } else if (body instanceof Body.FileRange file) {
                try {
                    file.file().close();
                } catch (java.io.IOException ignored) {
                    // Only read from: nothing is lost.
                }
            }
        }
    }

    /** A local response body. */
    sealed interface Body {
        /** No body (HEAD, 304, …). */
        record Empty() implements Body {}

        /** Bytes in memory; the engine releases the buffer. */
        record Bytes(ByteBuf content) implements Body {}

        /** A range of an open file, sent zero-copy where the transport allows; the engine closes it. */
        record FileRange(FileChannel file, long offset, long length) implements Body {}

        /** No data, only trailers (a gRPC status). */
        record Trailers(io.netty.handler.codec.http.HttpHeaders trailers) implements Body {}
    }
}
