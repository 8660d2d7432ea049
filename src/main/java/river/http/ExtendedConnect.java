package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with {@code :protocol websocket} is turned,
 * before the HTTP/2-to-HTTP/1 conversion sees it, into the GET it stands for; the stream handler then
 * asks the upstream for an HTTP/1.1 upgrade, and on 101 the stream becomes a byte tunnel carried in
 * DATA frames ({@link DataFrameBytes}). Being the stream's first handler, it also refuses a request
 * whose pseudo-header fields are malformed before anything converts it.
 */
final class ExtendedConnect extends ChannelInboundHandlerAdapter {
    /** Set on a stream whose request is an extended CONNECT for WebSocket. */
    static final AttributeKey<Boolean> WEBSOCKET = AttributeKey.valueOf("river.http2.websocket");
    private static final AsciiString PROTOCOL = Http2Headers.PseudoHeaderName.PROTOCOL.value();

    /** Whether the request's first HEADERS has passed; later ones are trailers. */
    private boolean headSeen;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame && headSeen) {
            // RFC 9113 §8.1: trailers carry no pseudo-header field. Netty would take one that does, with
            // END_STREAM, for a whole new request, and fail converting it after allocating its body.
            if (hasPseudoHeader(frame.headers())) {
                refuse(ctx, msg);
                return;
            }
        } else if (msg instanceof Http2HeadersFrame frame) {
            headSeen = true;
            Http2Headers headers = frame.headers();
            if (malformed(headers)) {
                refuse(ctx, msg);
                return;
            }
            CharSequence protocol = headers.get(PROTOCOL);
            if (protocol != null && HttpMethod.CONNECT.asciiName().contentEquals(headers.method())
                    && AsciiString.contentEqualsIgnoreCase(protocol, "websocket") && headers.path() != null) {
                headers.remove(PROTOCOL);
                headers.method(HttpMethod.GET.asciiName());
                ctx.channel().attr(WEBSOCKET).set(Boolean.TRUE);
                // Nothing of the tunnel may be read before the upstream agreed to it.
                ctx.channel().config().setAutoRead(false);
            } else if (protocol != null) {
                // Another protocol over extended CONNECT is nothing River can proxy.
                ReferenceCountUtil.release(msg);
                ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(
                        new io.netty.handler.codec.http2.DefaultHttp2Headers().status("501"), true));
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR; the reset counts
     * against the connection's budgets like any the peer provokes.
     */
    private static void refuse(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR))
                .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }

    private static boolean hasPseudoHeader(Http2Headers headers) {
        return headers.method() != null || headers.path() != null || headers.scheme() != null || headers.authority() != null
                || headers.status() != null || headers.get(PROTOCOL) != null;
    }

    /**
     * Whether a request's first HEADERS lacks what RFC 9113 §8.3.1 requires: a {@code :method} that is a
     * token; for
     * CONNECT without {@code :protocol} (§8.5) an {@code :authority} free of spaces and control characters and neither {@code :scheme} nor
     * {@code :path}; for any other request a {@code :scheme} and a non-empty {@code :path} free of spaces
     * and control characters. The
     * conversion to HTTP/1 would otherwise fail on the stream with a bare exception.
     */
    static boolean malformed(Http2Headers headers) {
        CharSequence method = headers.method();
        if (method == null || !isToken(method)) {
            return true;
        }
        if (HttpMethod.CONNECT.asciiName().contentEquals(method) && headers.get(PROTOCOL) == null) {
            // Its target is the :authority, which the conversion to HTTP/1 takes for the request's URI.
            return !isTarget(headers.authority()) || headers.scheme() != null || headers.path() != null;
        }
        return headers.scheme() == null || !isTarget(headers.path());
    }

    /** A non-empty :path with no space or control character, as for an HTTP/1 request target. */
    private static boolean isTarget(CharSequence path) {
        if (path == null || path.length() == 0) {
            return false;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 §5.6.2: a method is a token (Netty's HttpMethod refuses anything else, with an exception). */
    private static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * The tunnel's framing on the stream: DATA frames in become bytes, bytes out become DATA frames;
     * an empty buffer written (the other side closed) ends the stream, and so does the client's END_STREAM.
     */
    static final class DataFrameBytes extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2DataFrame data) {
                ByteBuf content = data.content().retain();
                boolean end = data.isEndStream();
                data.release();
                ctx.fireChannelRead(content);
                if (end) {
                    ctx.close();
                }
            } else {
                if (msg instanceof Http2ResetFrame) {
                    ctx.close();
                }
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf bytes) {
                ctx.write(new DefaultHttp2DataFrame(bytes, !bytes.isReadable()), promise);
            } else {
                ctx.write(msg, promise);
            }
        }
    }

}
