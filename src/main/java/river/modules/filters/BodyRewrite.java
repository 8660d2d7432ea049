package river.modules.filters;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import river.proxy.RequestContext;

/**
 * The {@code replace} body filter (beyond River 0.8, which can only count): the body is collected up
 * to the filter's {@code max-bytes}, rewritten as UTF-8 text at its end, and sent as one piece. The
 * length changes, so the message goes out chunked. A body that outgrows the limit is sent on
 * unchanged from the point it was found too big, so memory stays bounded whatever the origin sends.
 */
final class BodyRewrite {
    static final Object REQUEST = new Object();
    static final Object RESPONSE = new Object();
    /** Where the state of each direction is kept in the request's attributes. */
    private static final RequestContext.Key<State> REQUEST_STATE = RequestContext.Key.of("body-rewrite.request", State.class);
    private static final RequestContext.Key<State> RESPONSE_STATE = RequestContext.Key.of("body-rewrite.response", State.class);

    private BodyRewrite() {}

    /**
     * One {@code replace} filter, built once.
     *
     * @param mediaTypes the media-type prefixes rewritten, lower case; empty for any
     */
    record Rewrite(Pattern pattern, String replacement, long maxBytes, List<String> mediaTypes) {
        Rewrite {
            mediaTypes = mediaTypes.stream().map(t -> t.toLowerCase(Locale.ROOT)).toList();
        }

        /** Whether this filter rewrites a body of this media type (lower case). */
        boolean applies(String type) {
            if (mediaTypes.isEmpty()) {
                return true;
            }
            for (int i = 0; i < mediaTypes.size(); i++) {
                if (type.startsWith(mediaTypes.get(i))) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Whether any of the filters applies to a message with these headers (by media type, and not compressed). */
    static boolean wanted(List<Rewrite> filters, HttpHeaders headers) {
        if (filters.isEmpty()) {
            return false;
        }
        String encoding = headers.get(HttpHeaderNames.CONTENT_ENCODING);
        if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
            return false; // compressed bytes are not text
        }
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE, "").toLowerCase(Locale.ROOT);
        for (int i = 0; i < filters.size(); i++) {
            if (filters.get(i).applies(type)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts collecting this direction's body; the message will be sent chunked (for the request,
     * marking the client's request chunked is what makes the engine frame it so upstream).
     */
    static void start(RequestContext ctx, Object which, List<Rewrite> filters, HttpHeaders headers) {
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE, "").toLowerCase(Locale.ROOT);
        List<Rewrite> applicable = filters.stream().filter(f -> f.applies(type)).toList();
        long limit = applicable.stream().mapToLong(Rewrite::maxBytes).min().orElse(0);
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (which == REQUEST) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        ctx.set(which == REQUEST ? REQUEST_STATE : RESPONSE_STATE, new State(applicable, limit));
    }

    /** One body piece through the rewrite: held back while collecting, the rewritten body at the end. */
    static HttpContent pass(RequestContext ctx, Object which, HttpContent chunk) {
        State state = ctx.get(which == REQUEST ? REQUEST_STATE : RESPONSE_STATE);
        if (state == null || state.gaveUp) {
            return chunk;
        }
        boolean last = chunk instanceof LastHttpContent;
        ByteBuf bytes = chunk.content();
        if (state.collected.readableBytes() + bytes.readableBytes() > state.limit) {
            // Too big to rewrite: send what was held back, then everything else as it comes.
            state.gaveUp = true;
            CompositeByteBuf out = state.collected;
            out.addComponent(true, bytes.retain());
            state.collected = null;
            HttpContent through = last ? new DefaultLastHttpContent(out, ((LastHttpContent) chunk).trailingHeaders()) : new DefaultHttpContent(out);
            chunk.release();
            return through;
        }
        state.collected.addComponent(true, bytes.retain());
        if (!last) {
            chunk.release();
            return new DefaultHttpContent(Unpooled.EMPTY_BUFFER);
        }
        String text = state.collected.toString(StandardCharsets.UTF_8);
        state.collected.release();
        state.collected = null;
        state.gaveUp = true;
        for (Rewrite f : state.filters) {
            text = f.pattern().matcher(text).replaceAll(f.replacement());
        }
        DefaultLastHttpContent rewritten = new DefaultLastHttpContent(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
        rewritten.trailingHeaders().set(((LastHttpContent) chunk).trailingHeaders());
        chunk.release();
        return rewritten;
    }

    /** Releases what an exchange that ended early had collected. */
    static void discard(RequestContext ctx) {
        for (RequestContext.Key<State> key : List.of(REQUEST_STATE, RESPONSE_STATE)) {
            State state = ctx.get(key);
            if (state != null && state.collected != null) {
                state.collected.release();
                state.collected = null;
            }
        }
    }

    private static final class State {
        final List<Rewrite> filters;
        final long limit;
        CompositeByteBuf collected = Unpooled.compositeBuffer(1024);
        boolean gaveUp;

        State(List<Rewrite> filters, long limit) {
            this.filters = filters;
            this.limit = limit;
        }
    }
}
