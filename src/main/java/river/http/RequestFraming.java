package river.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;

/**
 * The checks a decoded request head must pass before it is forwarded, beyond what the decoder
 * enforces (header names are tokens, values hold no control characters): unambiguous body framing,
 * a single valid Host, and a clean request target.
 * Anything doubtful is refused rather than interpreted, so River and the origin can never disagree
 * about where a request ends.
 */
final class RequestFraming {
    private RequestFraming() {}

    /** Why the request must be refused with 400, or null when it is acceptable. */
    static String violation(HttpRequest request) {
        HttpHeaders headers = request.headers();
        List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!te.isEmpty()) {
            if (te.size() > 1 || !te.get(0).equalsIgnoreCase("chunked")) {
                return "unsupported Transfer-Encoding";
            }
            if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                return "Transfer-Encoding in an HTTP/1.0 request";
            }
            if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                return "both Content-Length and Transfer-Encoding";
            }
        }
        List<String> contentLength = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        if (contentLength.size() > 1) {
            return "more than one Content-Length";
        }
        if (contentLength.size() == 1 && !isDigits(contentLength.get(0))) {
            return "invalid Content-Length";
        }
        List<String> host = headers.getAll(HttpHeaderNames.HOST);
        if (host.size() > 1) {
            return "more than one Host";
        }
        if (host.isEmpty() && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            return "missing Host";
        }
        if (host.size() == 1 && !isAuthority(host.get(0))) {
            // Also catches a folded continuation line glued onto Host.
            return "invalid Host";
        }
        if (hasControl(request.uri()) || request.uri().indexOf(' ') >= 0) {
            return "invalid request target";
        }
        return null;
    }

    /** host[:port] as RFC 3986 allows it: no whitespace, no path, query, fragment or userinfo. */
    private static boolean isAuthority(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~%!$&'()*+,;=:[]".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return true;
            }
        }
        return false;
    }
}
