package river.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import river.upstream.Peer;

/**
 * What River knows of gRPC: how to recognise a call, that it needs HTTP/2 to the upstream, and how
 * River's own errors map to gRPC status codes (grpc/doc/statuscodes.md), the way gRPC itself maps
 * HTTP statuses.
 */
final class GrpcCalls {
    private GrpcCalls() {}

    /** A gRPC call: its content type is application/grpc or application/grpc+… (or ;…). */
    static boolean isGrpc(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /** Whether this peer can carry a gRPC call at all (River speaks HTTP/2 upstream only over TLS). */
    static boolean canCarry(Peer peer) {
        return peer.tls() != null && peer.tls().offer().mayUseHttp2();
    }

    /** The gRPC status a gRPC client gets for a River error. */
    static int status(ProxyError error) {
        return switch (error.kind()) {
            case BAD_REQUEST_BODY, INTERNAL, MODULE_FAILED -> 13; // INTERNAL
            case CONNECT_TIMEOUT, UPSTREAM_TIMEOUT, BODY_TIMEOUT, CLIENT_TOO_SLOW -> 4; // DEADLINE_EXCEEDED
            case NEEDS_HTTP2 -> 12; // UNIMPLEMENTED
            case NO_PEER, CONNECT_FAILED, UPSTREAM_CLOSED, BAD_RESPONSE -> 14; // UNAVAILABLE: the client may retry
        };
    }
}
