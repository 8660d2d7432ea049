package river.http;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * What one client connection may ask of River at once, set on the connection when it is accepted and
 * read when its protocol is known (HTTP/1.x or HTTP/2 is chosen later, by ALPN or by the first bytes).
 *
 * @param maxConcurrentStreams HTTP/2 streams the client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param maxPipelinedRequests HTTP/1.1 requests the client may send ahead of the one being answered;
 *     past that, the ones already read are answered, the last with {@code Connection: close}, and the
 *     rest are dropped unanswered, which a client retries on a new connection (RFC 9112 §9.3.2)
 */
public record ConnectionLimits(int maxConcurrentStreams, int maxPipelinedRequests) {
    /** For a connection set up without a listener's limits (tests on embedded channels). */
    static final ConnectionLimits DEFAULT = new ConnectionLimits(Http2Pipeline.MAX_CONCURRENT_STREAMS, 32);

    private static final AttributeKey<ConnectionLimits> KEY = AttributeKey.valueOf("river.http.connectionLimits");

    /** Gives an accepted connection its listener's limits. */
    public static void set(Channel connection, ConnectionLimits limits) {
        connection.attr(KEY).set(limits);
    }

    /** The limits of a connection (or of an HTTP/2 stream's connection). */
    static ConnectionLimits of(Channel channel) {
        Channel connection = channel.parent() != null && !(channel.parent() instanceof io.netty.channel.ServerChannel) ? channel.parent() : channel;
        ConnectionLimits limits = connection.attr(KEY).get();
        return limits == null ? DEFAULT : limits;
    }
}
