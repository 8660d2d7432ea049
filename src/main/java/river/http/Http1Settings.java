package river.http;

/**
 * Limits and timeouts of a listener's client connections (HTTP/1.x, and HTTP/2 where it shares them).
 *
 * @param requestHeaderTimeoutMs time from a request's first byte (or the connection's start) to its complete head
 * @param keepaliveIdleTimeoutMs how long an idle keep-alive connection waits for the next request
 * @param connectionLimits what one connection may ask at once; here rather than on each channel (an
 *     attribute costs about 50 B of every idle connection)
 */
public record Http1Settings(
        long requestHeaderTimeoutMs, long keepaliveIdleTimeoutMs, int maxRequestLineBytes, int maxRequestHeaderBytes,
        ConnectionLimits connectionLimits) {
    /** With the default connection limits (connections set up without a listener's: tests on embedded channels). */
    public Http1Settings(long requestHeaderTimeoutMs, long keepaliveIdleTimeoutMs, int maxRequestLineBytes, int maxRequestHeaderBytes) {
        this(requestHeaderTimeoutMs, keepaliveIdleTimeoutMs, maxRequestLineBytes, maxRequestHeaderBytes, ConnectionLimits.DEFAULT);
    }
}
