package river.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import river.upstream.UpstreamConnection;

/**
 * The WebSocket hand-off (RFC 6455 over HTTP/1.1; an HTTP/2 extended CONNECT reaches the engine
 * already translated into this shape by the codec): recognising the request, asking the origin for
 * the switch, checking its answer, and joining both connections into a {@link Tunnel}.
 */
final class WebSocketUpgrade {
    private WebSocketUpgrade() {}

    /** A GET asking to switch to WebSocket (RFC 6455 §4.1). */
    static boolean isRequested(HttpRequest request) {
        if (!request.method().equals(HttpMethod.GET)) {
            return false;
        }
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.equalsIgnoreCase("websocket")
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** Puts back the hop-by-hop headers that ask the origin for the switch. */
    static void askUpstream(HttpHeaders upstreamHeaders) {
        upstreamHeaders.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        upstreamHeaders.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    }

    /** Whether a 101 answers a WebSocket request with a switch to WebSocket. */
    static boolean accepted(boolean requested, HttpResponse switching) {
        String upgrade = switching.headers().get(HttpHeaderNames.UPGRADE);
        return requested && upgrade != null && upgrade.equalsIgnoreCase("websocket");
    }

    /** The 101 as the client gets it: River's own hop-by-hop headers, and Via. */
    static void prepareForClient(HttpResponse switching) {
        ForwardedHeaders.removeHopByHop(switching.headers());
        switching.headers()
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                .add(HttpHeaderNames.VIA, ForwardedHeaders.VIA_VALUE);
    }

    /** Sends the 101 and turns both connections into one byte tunnel; the exchange ends here. */
    static void join(Downstream downstream, UpstreamConnection upstream, HttpResponse switching, long idleTimeoutMs) {
        downstream.switchToTunnel(switching, new Tunnel.Join() {
            @Override
            public io.netty.channel.Channel toChannel(io.netty.channel.Channel client) {
                return upstream.takeOverAsTunnel(Tunnel.relayTo(client), Tunnel.idleWatch(idleTimeoutMs));
            }

            @Override
            public io.netty.channel.Channel toEnd(Tunnel.ClientEnd client) {
                return upstream.takeOverAsTunnel(Tunnel.relayTo(client), Tunnel.idleWatch(idleTimeoutMs));
            }
        }, idleTimeoutMs);
    }
}
