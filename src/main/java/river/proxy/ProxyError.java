package river.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Why a request could not be proxied. The kind carries the status the client gets and whether
 * another attempt may help; this is the one place failures become statuses.
 */
public enum ProxyError {
    BAD_REQUEST_BODY(HttpResponseStatus.BAD_REQUEST, false, "invalid request body framing"),
    NO_PEER(HttpResponseStatus.BAD_GATEWAY, false, "no upstream available"),
    CONNECT_FAILED(HttpResponseStatus.BAD_GATEWAY, true, "could not connect to upstream"),
    CONNECT_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, true, "timed out connecting to upstream"),
    UPSTREAM_CLOSED(HttpResponseStatus.BAD_GATEWAY, false, "upstream closed the connection"),
    BAD_RESPONSE(HttpResponseStatus.BAD_GATEWAY, false, "upstream sent an invalid response"),
    UPSTREAM_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, false, "upstream did not answer in time"),
    BODY_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, false, "body transfer stalled"),
    NEEDS_HTTP2(HttpResponseStatus.BAD_GATEWAY, false, "gRPC needs HTTP/2 to the upstream, and the connector speaks HTTP/1.1"),
    INTERNAL(HttpResponseStatus.INTERNAL_SERVER_ERROR, false, "internal error");

    private final HttpResponseStatus status;
    private final boolean retryOnAnotherPeer;
    private final String description;

    ProxyError(HttpResponseStatus status, boolean retryOnAnotherPeer, String description) {
        this.status = status;
        this.retryOnAnotherPeer = retryOnAnotherPeer;
        this.description = description;
    }

    public HttpResponseStatus status() {
        return status;
    }

    /** Whether this failure is the upstream's fault, for passive health checking. */
    boolean countsAgainstPeer() {
        return this == CONNECT_FAILED || this == CONNECT_TIMEOUT || this == UPSTREAM_CLOSED || this == BAD_RESPONSE || this == UPSTREAM_TIMEOUT;
    }

    /** Whether the request, not yet sent, may be tried on another peer. */
    public boolean retryOnAnotherPeer() {
        return retryOnAnotherPeer;
    }

    public String description() {
        return description;
    }

    /**
     * The gRPC status code (grpc/doc/statuscodes.md) a gRPC client gets for this failure: the
     * status River would answer an HTTP client with, mapped as gRPC maps HTTP statuses.
     */
    int grpcStatus() {
        return switch (this) {
            case BAD_REQUEST_BODY -> 13; // INTERNAL: the framing was broken
            case CONNECT_TIMEOUT, UPSTREAM_TIMEOUT, BODY_TIMEOUT -> 4; // DEADLINE_EXCEEDED
            case NEEDS_HTTP2 -> 12; // UNIMPLEMENTED
            case INTERNAL -> 13;
            default -> 14; // UNAVAILABLE: the client may retry
        };
    }

    static ProxyError ofConnectFailure(Throwable cause) {
        return cause instanceof ConnectTimeoutException ? CONNECT_TIMEOUT : CONNECT_FAILED;
    }
}
