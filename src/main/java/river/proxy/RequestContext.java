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
    /** The peer of the client connection (the client, or a proxy in front of River). */
    private final InetSocketAddress socketPeer;
    /** Who the client is: the socket peer, or the address trusted proxies vouched for (client-ip). */
    private InetSocketAddress client;
    private final boolean secure;
    private final HttpRequest request;
    private String path;
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
        this.socketPeer = client;
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

    /**
     * The client's address, as every filter, limit and log sees it: the connection's peer, or the
     * address a trusted proxy reported (client-ip, PROXY protocol); null for a Unix socket client.
     */
    public InetSocketAddress client() {
        return client;
    }

    /** Who the client is, as a module that trusts a forwarding header decided. */
    public void client(InetSocketAddress vouchedFor) {
        this.client = vouchedFor;
    }

    /** The peer of the client connection itself, whoever the client is (for X-Forwarded-For). */
    public InetSocketAddress socketPeer() {
        return socketPeer;
    }

    /**
     * Replaces the request's path (normalization, rewrites): what later phases match and what is
     * sent upstream; the query string stays as it was.
     */
    public void rewritePath(String newPath) {
        String uri = request.uri();
        int q = uri.indexOf('?');
        request.setUri(q < 0 ? newPath : newPath + uri.substring(q));
        this.path = newPath;
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
