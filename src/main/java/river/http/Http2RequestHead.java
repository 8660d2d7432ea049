package river.http;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

/**
 * What a request's HEADERS must hold before anything converts them to HTTP/1 (RFC 9113 §8.1, §8.3.1):
 * a stream breaking these rules is malformed, a stream error of type PROTOCOL_ERROR, and the reset
 * counts against the connection's budgets like any the peer provokes.
 */
final class Http2RequestHead {
    private static final AsciiString PROTOCOL = Http2Headers.PseudoHeaderName.PROTOCOL.value();

    private Http2RequestHead() {}

    static boolean hasPseudoHeader(Http2Headers headers) {
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
}
