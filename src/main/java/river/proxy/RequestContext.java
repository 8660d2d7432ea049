package river.proxy;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import river.upstream.Peer;

/**
 * Everything known about one request while it passes through the phases. Modules read it and may
 * keep their own state in {@link #attribute}. It is confined to the request's event loop.
 */
public final class RequestContext {
    private final String service;
    private final InetSocketAddress client;
    private final boolean secure;
    private final HttpRequest request;
    private final String path;
    private final long startNanos = System.nanoTime();
    private Map<Object, Object> attributes;
    Peer peer;
    boolean upstreamReused;
    HttpResponseStatus status;
    long bytesIn;
    long bytesOut;
    long connectNanos = -1;
    long responseHeadNanos = -1;
    long endNanos = -1;
    ProxyError error;
    int attempts;
    /** The upstreams a routing phase chose, or null for the service's own. */
    river.upstream.PeerSelector upstreams;

    RequestContext(String service, InetSocketAddress client, boolean secure, HttpRequest request) {
        this.service = service;
        this.client = client;
        this.secure = secure;
        this.request = request;
        String uri = request.uri();
        int q = uri.indexOf('?');
        this.path = q < 0 ? uri : uri.substring(0, q);
    }

    /** Sends this request to {@code upstreams} instead of the service's connectors (routing). */
    public void routeTo(river.upstream.PeerSelector upstreams) {
        this.upstreams = upstreams;
    }

    public String service() {
        return service;
    }

    /** The client's address; null for clients on a Unix socket. */
    public InetSocketAddress client() {
        return client;
    }

    /** Whether the client connected over TLS. */
    public boolean secure() {
        return secure;
    }

    /** The request as received from the client (modules may change its headers in onRequest). */
    public HttpRequest request() {
        return request;
    }

    /** The request target's path, without the query. */
    public String path() {
        return path;
    }

    /** The upstream the request went to, or null. */
    public Peer peer() {
        return peer;
    }

    public boolean upstreamReused() {
        return upstreamReused;
    }

    /** The status sent to the client, or null if none was sent. */
    public HttpResponseStatus status() {
        return status;
    }

    public long bytesIn() {
        return bytesIn;
    }

    public long bytesOut() {
        return bytesOut;
    }

    /** Why proxying failed, or null. */
    public ProxyError error() {
        return error;
    }

    public int attempts() {
        return attempts;
    }

    public long startNanos() {
        return startNanos;
    }

    /** Nanoseconds from arrival until the upstream connection was ready, or -1. */
    public long connectNanos() {
        return connectNanos;
    }

    /** Nanoseconds from arrival until the response head was sent, or -1. */
    public long responseHeadNanos() {
        return responseHeadNanos;
    }

    /** Nanoseconds from arrival until the request ended, or -1 while it runs. */
    public long totalNanos() {
        return endNanos;
    }

    @SuppressWarnings("unchecked")
    public <T> T attribute(Object key) {
        return attributes == null ? null : (T) attributes.get(key);
    }

    public void attribute(Object key, Object value) {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        attributes.put(key, value);
    }
}
