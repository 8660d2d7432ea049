package river.proxy;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import river.upstream.Peer;

/**
 * Everything known about one request while it passes through the phases. Modules read it and keep
 * their own per-request state under typed {@link Key}s. It is confined to the request's event loop.
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
    private final long startNanos;
    /** Module state by key; created by the first module that stores something. */
    private Map<Key<?>, Object> values;
    Peer peer;
    boolean upstreamReused;
    HttpResponseStatus status;
    long bytesIn;
    long bytesOut;
    long connectNanos = -1;
    /** When the current attempt began borrowing or dialling its connection, from arrival; -1 before any. */
    long attemptStartNanos = -1;
    /** When the upstream's final response head arrived, from arrival; -1 if none did. */
    long upstreamHeadNanos = -1;
    /** The upstream's final response status, or 0 if none arrived. */
    int upstreamStatus;
    /** The configured route that claimed the request (its index in the service's routes), {@link #NO_ROUTE}, or -1 before routing. */
    int route = -1;
    /** {@link #route()} of a request that no configured route claimed. */
    public static final int NO_ROUTE = -2;
    /** What refused the request, as {@code module:rule}, or null. */
    String rejectedBy;
    long responseHeadNanos = -1;
    long endNanos = -1;
    ProxyError error;
    int attempts;
    /** The upstreams a routing phase chose, or null for the service's own. */
    river.upstream.PeerSelector upstreams;
    /** Whether the client sent this request over HTTP/2 (set by the exchange from its downstream). */
    boolean http2;

    RequestContext(String service, InetSocketAddress client, boolean secure, HttpRequest request, long startNanos) {
        this.service = service;
        this.startNanos = startNanos;
        this.client = client;
        this.socketPeer = client;
        this.secure = secure;
        this.request = request;
        String uri = request.uri();
        int q = uri.indexOf('?');
        this.path = q < 0 ? uri : uri.substring(0, q);
    }

    /** The response head went to the client at {@code now} (the engine clock's nanoseconds). */
    void responded(HttpResponseStatus sent, long now) {
        status = sent;
        responseHeadNanos = now - startNanos;
    }

    /** Whether this is a HEAD request, whose response has no body whatever its headers say. */
    boolean headRequest() {
        return request.method().equals(io.netty.handler.codec.http.HttpMethod.HEAD);
    }

    /** Sends this request to {@code upstreams} instead of the service's connectors (routing). */
    public void routeTo(river.upstream.PeerSelector upstreams) {
        this.upstreams = upstreams;
    }

    /** Sends this request to the upstreams of the service's route number {@code index} (routing). */
    public void routeTo(river.upstream.PeerSelector upstreams, int index) {
        this.upstreams = upstreams;
        this.route = index;
    }

    /** Records that no configured route claims this request (routing). */
    public void noRoute() {
        this.route = NO_ROUTE;
    }

    /**
     * The index of the configured route that claimed the request; {@link #NO_ROUTE} when none did; -1
     * when no routing decided (a service without routes, or a request refused before routing).
     */
    public int route() {
        return route;
    }

    /** Records that {@code rule} of {@code module} refused the request (counted by the metrics); a configured name only. */
    public void rejectedBy(String ruleName) {
        this.rejectedBy = ruleName;
    }

    /** The configured rule that refused the request, or null. */
    public String rejectedBy() {
        return rejectedBy;
    }

    /** The HTTP version the client spoke: "2", "1.1" or "1.0" (OpenTelemetry's network.protocol.version). */
    public String protocolVersion() {
        if (http2) {
            return "2";
        }
        return request.protocolVersion().minorVersion() == 0 ? "1.0" : "1.1";
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

    /** Nanoseconds from arrival until the last attempt began borrowing or dialling its connection, or -1. */
    public long attemptStartNanos() {
        return attemptStartNanos;
    }

    /** Nanoseconds from arrival until the upstream's final response head arrived, or -1. */
    public long upstreamHeadNanos() {
        return upstreamHeadNanos;
    }

    /** The status the upstream answered with (before any module changed it), or 0 if none arrived. */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** Nanoseconds from arrival until the response head was sent, or -1. */
    public long responseHeadNanos() {
        return responseHeadNanos;
    }

    /** Nanoseconds from arrival until the request ended, or -1 while it runs. */
    public long totalNanos() {
        return endNanos;
    }

    /** The value a module stored under {@code key} for this request, or null. */
    public <T> T get(Key<T> key) {
        return values == null ? null : key.type.cast(values.get(key));
    }

    /** Stores a module's per-request state under its key (null removes it). */
    public <T> void set(Key<T> key, T value) {
        if (value == null) {
            if (values != null) {
                values.remove(key);
            }
            return;
        }
        if (values == null) {
            values = new HashMap<>(4);
        }
        values.put(key, key.type.cast(value));
    }

    /**
     * A typed slot of per-request state, declared once by the module that owns it (a static final
     * field): {@code static final Key<Counted> COUNTED = Key.of("overload.counted", Counted.class)}.
     * Keys compare by identity, so two modules never share state by accident.
     */
    public static final class Key<T> {
        private final String name;
        private final Class<T> type;

        private Key(String name, Class<T> type) {
            this.name = name;
            this.type = type;
        }

        public static <T> Key<T> of(String name, Class<T> type) {
            return new Key<>(name, type);
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
