package river.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The header rules of a proxy (RFC 9110 §7.6): hop-by-hop headers, and those the Connection header
 * names, never cross River; Via and the X-Forwarded-* headers record the hop.
 */
final class ForwardedHeaders {
    static final AsciiString VIA_VALUE = AsciiString.cached("1.1 river");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString[] HOP_BY_HOP = {
        HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.TE,
        HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_AUTHENTICATE,
        HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TRAILER
    };

    private ForwardedHeaders() {}

    /** Removes hop-by-hop headers and every header the Connection header names. */
    static void removeHopByHop(HttpHeaders headers) {
        List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
        for (String value : connection) {
            for (String token : value.split(",")) {
                String name = token.strip();
                if (!name.isEmpty()) {
                    headers.remove(name);
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
    }

    /** Adds Via and X-Forwarded-For/-Proto/-Host to a request going upstream. */
    static void addForwarded(HttpHeaders headers, InetSocketAddress client, boolean secure) {
        headers.add(HttpHeaderNames.VIA, VIA_VALUE);
        if (client != null) {
            String ip = client.getAddress().getHostAddress();
            String previous = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, previous == null ? ip : previous + ", " + ip);
        }
        headers.set(X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null) {
            headers.set(X_FORWARDED_HOST, host);
        }
    }
}
