package river.proxy;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import river.headers.CompactHeaders;

/**
 * The header rules of a proxy (RFC 9110 §7.6): hop-by-hop headers, and those the Connection header
 * names, never cross River; Via and the X-Forwarded-* headers record the hop. Written as single
 * passes over the headers, since this runs twice for every request.
 */
final class ForwardedHeaders {
    static final AsciiString VIA_VALUE = AsciiString.cached("1.1 river");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    /** Headers copied from an already validated message need no second validation. */
    private static final HttpHeadersFactory UNVALIDATED = CompactHeaders.factory(false);

    private ForwardedHeaders() {}

    /** Whether the name is one of RFC 9110's hop-by-hop headers (or an obsolete one still seen). */
    static boolean isHopByHop(CharSequence name) {
        switch (name.length()) {
            case 2:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TE);
            case 7:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.UPGRADE)
                        || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRAILER);
            case 10:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)
                        || AsciiString.contentEqualsIgnoreCase(name, KEEP_ALIVE);
            case 16:
                return AsciiString.contentEqualsIgnoreCase(name, PROXY_CONNECTION);
            case 17:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING);
            case 18:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHENTICATE);
            case 19:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHORIZATION);
            default:
                return false;
        }
    }

    /**
     * The names listed in Connection headers other than the usual "keep-alive"/"close" (which are
     * hop-by-hop anyway), or null when there are none, the common case.
     */
    private static List<String> connectionNamed(HttpHeaders headers) {
        List<String> named = null;
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                int a = start;
                int b = end;
                while (a < b && (value.charAt(a) == ' ' || value.charAt(a) == '\t')) {
                    a++;
                }
                while (b > a && (value.charAt(b - 1) == ' ' || value.charAt(b - 1) == '\t')) {
                    b--;
                }
                if (b > a && !isWord(value, a, b, "close") && !isWord(value, a, b, "keep-alive")) {
                    if (named == null) {
                        named = new ArrayList<>(2);
                    }
                    named.add(value.substring(a, b));
                }
                start = end + 1;
            }
        }
        return named;
    }

    private static boolean isWord(String value, int from, int to, String word) {
        return to - from == word.length() && value.regionMatches(true, from, word, 0, word.length());
    }

    private static boolean isNamed(List<String> named, CharSequence name) {
        if (named != null) {
            for (String n : named) {
                if (AsciiString.contentEqualsIgnoreCase(n, name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The headers for the upstream request: the client's, without hop-by-hop headers, plus Via and
     * X-Forwarded-For/-Proto/-Host.
     */
    static HttpHeaders forUpstream(HttpHeaders original, InetSocketAddress client, boolean secure) {
        List<String> named = original.contains(HttpHeaderNames.CONNECTION) ? connectionNamed(original) : null;
        HttpHeaders out = UNVALIDATED.newHeaders();
        CharSequence previousFor = null;
        CharSequence host = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = original.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            CharSequence name = h.getKey();
            if (isHopByHop(name) || isNamed(named, name)) {
                continue;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, X_FORWARDED_FOR)) {
                previousFor = previousFor == null ? h.getValue() : previousFor + ", " + h.getValue();
                continue;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, X_FORWARDED_PROTO) || AsciiString.contentEqualsIgnoreCase(name, X_FORWARDED_HOST)) {
                continue;
            }
            if (host == null && AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.HOST)) {
                host = h.getValue();
            }
            out.add(name, h.getValue());
        }
        out.add(HttpHeaderNames.VIA, VIA_VALUE);
        if (client != null) {
            String ip = client.getAddress().getHostAddress();
            out.add(X_FORWARDED_FOR, previousFor == null ? ip : previousFor + ", " + ip);
        } else if (previousFor != null) {
            out.add(X_FORWARDED_FOR, previousFor);
        }
        out.add(X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        if (host != null) {
            out.add(X_FORWARDED_HOST, host);
        }
        return out;
    }

    /**
     * The request head River sends upstream for {@code original}: HTTP/1.1 with the forwarded headers,
     * chunked framing when the client's body had none of known length, a Host for HTTP/1.0 clients,
     * and the one TE value HTTP/2 allows when gRPC asks for it.
     */
    static HttpRequest upstreamRequest(HttpRequest original, InetSocketAddress socketPeer, boolean secure, String peerLabel, boolean http2) {
        HttpHeaders headers = forUpstream(original.headers(), socketPeer, secure);
        if (HttpUtil.isTransferEncodingChunked(original)) {
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (original.protocolVersion().equals(HttpVersion.HTTP_1_0) && !headers.contains(HttpHeaderNames.HOST)) {
            headers.set(HttpHeaderNames.HOST, peerLabel);
        }
        if (http2 && original.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true)) {
            headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, original.method(), original.uri(), headers);
    }

    /** Makes an upstream response head fit for the client: hop-by-hop headers out, Via in, HTTP/1.1. */
    static void forClient(HttpResponse response) {
        removeHopByHop(response.headers());
        response.headers().add(HttpHeaderNames.VIA, VIA_VALUE);
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** Removes hop-by-hop headers and every header the Connection header names, in place. */
    static void removeHopByHop(HttpHeaders headers) {
        List<String> named = headers.contains(HttpHeaderNames.CONNECTION) ? connectionNamed(headers) : null;
        if (headers instanceof CompactHeaders) {
            ((CompactHeaders) headers).removeIf(named == null ? ForwardedHeaders::isHopByHop : name -> isHopByHop(name) || isNamed(named, name));
            return;
        }
        List<CharSequence> doomed = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (isHopByHop(name) || isNamed(named, name)) {
                if (doomed == null) {
                    doomed = new ArrayList<>(4);
                }
                doomed.add(name);
            }
        }
        if (doomed != null) {
            for (CharSequence name : doomed) {
                headers.remove(name);
            }
        }
    }
}
