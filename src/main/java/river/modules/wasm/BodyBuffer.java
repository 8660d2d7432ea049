package river.modules.wasm;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.util.concurrent.CompletableFuture;

/**
 * One direction of one request's body as its plugin sees it: the bytes River buffers for it (what
 * it kept with StopIterationAndBuffer plus the piece arriving; buffer type 0 or 1), the trailers while
 * their callback runs (map 1 or 3) and, for the request, how the upstream head frames the body the
 * plugin lets go. The bytes are the pieces' own buffers, retained, not copies.
 */
final class BodyBuffer {
    /** The most pieces a buffered body keeps as components before they are merged. */
    private static final int MAX_COMPONENTS = 1024;

    /** The kept pieces and the one arriving; null when nothing is kept. */
    CompositeByteBuf data;
    /** Whether the piece being given ends the body (get_buffer_status). */
    boolean endOfStream;
    /** The trailers while the trailers callback runs, else null. */
    HttpHeaders trailers;
    /** Whether this direction goes through the plugin's body and trailers callbacks. */
    boolean active;
    /** The request head a plugin's body holds back until its framing is known (request only), or null. */
    CompletableFuture<Void> headGate;
    /** The upstream request head of the current attempt (request only), or null. */
    HttpRequest upstreamHead;
    /** The body length the upstream head announces once the whole body was seen before it went; -1 while undecided. */
    long exactLength = -1;
    /** The plugin let a piece go before the end (or trailers follow): the body goes up chunked. */
    boolean chunked;

    /** Appends a piece's bytes (retained), starting the buffer when nothing is kept. */
    void add(ByteBuf piece) {
        if (data == null) {
            data = Unpooled.compositeBuffer(MAX_COMPONENTS);
        }
        if (piece.isReadable()) {
            data.addComponent(true, piece.retain());
        }
    }

    int size() {
        return data == null ? 0 : data.readableBytes();
    }

    /** Takes the buffered bytes to pass on; nothing is kept afterwards. */
    ByteBuf take() {
        ByteBuf out = data == null ? Unpooled.EMPTY_BUFFER : data;
        data = null;
        return out;
    }

    /** A copy of {@code length} bytes from {@code start}, both clamped to the buffer (get_buffer_bytes). */
    byte[] slice(long start, long length) {
        int size = size();
        int from = (int) Math.min(Math.max(start, 0), size);
        int n = (int) Math.min(Math.max(length, 0), size - from);
        byte[] out = new byte[n];
        if (n > 0) {
            data.getBytes(data.readerIndex() + from, out);
        }
        return out;
    }

    /** Replaces {@code length} bytes from {@code start} with {@code with} (set_buffer_bytes); false when start is outside. */
    boolean replace(long start, long length, byte[] with) {
        int size = size();
        if (start < 0 || start > size || length < 0) {
            return false;
        }
        int from = (int) start;
        int to = (int) Math.min(size, start + length);
        CompositeByteBuf out = Unpooled.compositeBuffer(MAX_COMPONENTS);
        if (from > 0) {
            out.addComponent(true, data.retainedSlice(data.readerIndex(), from));
        }
        if (with.length > 0) {
            out.addComponent(true, Unpooled.wrappedBuffer(with));
        }
        if (to < size) {
            out.addComponent(true, data.retainedSlice(data.readerIndex() + to, size - to));
        }
        release();
        data = out;
        return true;
    }

    /** Drops what is kept: the exchange ended, or the body was refused. */
    void release() {
        if (data != null) {
            data.release();
            data = null;
        }
    }

    /** A piece was let go: decides the request's framing once, on the upstream head if it is already known. */
    void framingDecided(boolean whole, long length) {
        if (exactLength >= 0 || chunked) {
            return;
        }
        if (whole) {
            exactLength = length;
        } else {
            chunked = true;
        }
        if (upstreamHead != null) {
            frame(upstreamHead);
        }
        CompletableFuture<Void> gate = headGate;
        headGate = null;
        if (gate != null) {
            gate.complete(null);
        }
    }

    /** Whether the framing is known (a piece was let go). */
    boolean framed() {
        return exactLength >= 0 || chunked;
    }

    /** Sets the head's framing to what the plugin made of the body: its exact length, or chunked. */
    void frame(HttpRequest head) {
        HttpHeaders h = head.headers();
        if (chunked) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            h.set(HttpHeaderNames.CONTENT_LENGTH, exactLength);
        }
    }
}
