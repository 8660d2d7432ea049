package river.http;

/**
 * What one client connection may ask of River at once, carried by its listener's {@link Http1Settings}
 * and read when its protocol is known (HTTP/1.x or HTTP/2 is chosen later, by ALPN or by the first bytes).
 *
 * @param maxConcurrentStreams HTTP/2 streams the client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param maxPipelinedRequests HTTP/1.1 requests the client may send ahead of the one being answered;
 *     past that, the ones already read are answered, the last with {@code Connection: close}, and the
 *     rest are dropped unanswered, which a client retries on a new connection (RFC 9112 §9.3.2)
 */
public record ConnectionLimits(int maxConcurrentStreams, int maxPipelinedRequests) {
    /** For a connection set up without a listener's limits (tests on embedded channels). */
    static final ConnectionLimits DEFAULT = new ConnectionLimits(Http2Pipeline.MAX_CONCURRENT_STREAMS, 32);
}
