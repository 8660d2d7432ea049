package river.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Why a request could not be proxied: the one error type of the data path. It says where the failure
 * came from ({@link Source}), what it was ({@link Kind}, which carries the status the client gets),
 * its cause if there is one, and whether the request may be tried on another peer. The retry loop asks
 * the error; {@link ErrorResponder} turns it into a response; passive health hears only of errors whose
 * source is the upstream.
 */
public final class ProxyError {

    /** Where a failure came from. */
    public enum Source {
        /** The client: broken request framing. */
        DOWNSTREAM,
        /** Connecting to the upstream (refused, unreachable, TLS handshake, connect timeout). */
        UPSTREAM_CONNECT,
        /** The upstream after connecting: closed early, sent an invalid response. */
        UPSTREAM_READ,
        /** One of the exchange's deadlines passed. */
        TIMEOUT,
        /** A module threw, or refused a request in a way that is its bug. */
        MODULE,
        /** River itself: no peer configured, a protocol mismatch, an engine bug. */
        INTERNAL
    }

    /** What failed; each kind has one source, one status and one description. */
    public enum Kind {
        BAD_REQUEST_BODY(Source.DOWNSTREAM, HttpResponseStatus.BAD_REQUEST, false, "invalid request body framing"),
        NO_PEER(Source.INTERNAL, HttpResponseStatus.BAD_GATEWAY, false, "no upstream available"),
        CONNECT_FAILED(Source.UPSTREAM_CONNECT, HttpResponseStatus.BAD_GATEWAY, true, "could not connect to upstream"),
        CONNECT_TIMEOUT(Source.UPSTREAM_CONNECT, HttpResponseStatus.GATEWAY_TIMEOUT, true, "timed out connecting to upstream"),
        UPSTREAM_CLOSED(Source.UPSTREAM_READ, HttpResponseStatus.BAD_GATEWAY, false, "upstream closed the connection"),
        BAD_RESPONSE(Source.UPSTREAM_READ, HttpResponseStatus.BAD_GATEWAY, false, "upstream sent an invalid response"),
        UPSTREAM_TIMEOUT(Source.TIMEOUT, HttpResponseStatus.GATEWAY_TIMEOUT, false, "upstream did not answer in time"),
        BODY_TIMEOUT(Source.TIMEOUT, HttpResponseStatus.GATEWAY_TIMEOUT, false, "body transfer stalled"),
        CLIENT_TOO_SLOW(Source.DOWNSTREAM, HttpResponseStatus.REQUEST_TIMEOUT, false, "client too slow to take the response"),
        NEEDS_HTTP2(Source.INTERNAL, HttpResponseStatus.BAD_GATEWAY, false,
                "gRPC needs HTTP/2 to the upstream, and the connector speaks HTTP/1.1"),
        MODULE_FAILED(Source.MODULE, HttpResponseStatus.INTERNAL_SERVER_ERROR, false, "internal error"),
        INTERNAL(Source.INTERNAL, HttpResponseStatus.INTERNAL_SERVER_ERROR, false, "internal error");

        private final Source source;
        private final HttpResponseStatus status;
        private final boolean retryOnAnotherPeer;
        private final String description;

        Kind(Source source, HttpResponseStatus status, boolean retryOnAnotherPeer, String description) {
            this.source = source;
            this.status = status;
            this.retryOnAnotherPeer = retryOnAnotherPeer;
            this.description = description;
        }

        public Source source() {
            return source;
        }

        public HttpResponseStatus status() {
            return status;
        }
    }

    private final Kind kind;
    private final Throwable cause;
    private final boolean retryOnAnotherPeer;
    /** The module that failed, for {@link Source#MODULE}; null otherwise. */
    private final String module;

    private ProxyError(Kind kind, Throwable cause, boolean retryOnAnotherPeer, String module) {
        this.kind = kind;
        this.cause = cause;
        this.retryOnAnotherPeer = retryOnAnotherPeer;
        this.module = module;
    }

    /** An error of {@code kind} with no cause beyond itself. */
    public static ProxyError of(Kind kind) {
        return new ProxyError(kind, null, kind.retryOnAnotherPeer, null);
    }

    public static ProxyError of(Kind kind, Throwable cause) {
        return new ProxyError(kind, cause, kind.retryOnAnotherPeer, null);
    }

    /** A connect attempt failed: a timeout or any other reason. */
    static ProxyError ofConnectFailure(Throwable cause) {
        return of(cause instanceof ConnectTimeoutException ? Kind.CONNECT_TIMEOUT : Kind.CONNECT_FAILED, cause);
    }

    /** A module threw in one of its phases. */
    static ProxyError ofModule(String module, Throwable cause) {
        return new ProxyError(Kind.MODULE_FAILED, cause, false, module);
    }

    /** The same error with the retry decision changed (a module's {@code failToConnect} may ask for it). */
    public ProxyError withRetry(boolean retry) {
        return retry == retryOnAnotherPeer ? this : new ProxyError(kind, cause, retry, module);
    }

    public Kind kind() {
        return kind;
    }

    public Source source() {
        return kind.source;
    }

    /** The failure underneath, or null. */
    public Throwable cause() {
        return cause;
    }

    /** The failed module's name, or null when no module failed. */
    public String module() {
        return module;
    }

    /** The status an HTTP client gets for this error. */
    public HttpResponseStatus status() {
        return kind.status;
    }

    /** Whether the request, not yet sent, may be tried on another peer. */
    public boolean retryOnAnotherPeer() {
        return retryOnAnotherPeer;
    }

    /** Whether the upstream is to blame: only then does passive health checking hear of it. */
    public boolean blamesUpstream() {
        return kind.source == Source.UPSTREAM_CONNECT || kind.source == Source.UPSTREAM_READ || kind == Kind.UPSTREAM_TIMEOUT;
    }

    public String description() {
        return kind.description;
    }

    /** The kind's name, as the access log writes it. */
    public String name() {
        return kind.name();
    }

    @Override
    public String toString() {
        return kind + (module != null ? " in " + module : "") + (cause != null ? " (" + cause + ")" : "");
    }
}
