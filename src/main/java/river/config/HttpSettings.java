package river.config;

/**
 * Per-service limits and timeouts of the HTTP engine, with River's defaults.
 *
 * @param connectTimeoutMs time allowed to open a TCP connection to a connector
 * @param requestHeaderTimeoutMs time a client has to send a complete request head (slowloris guard)
 * @param keepaliveIdleTimeoutMs how long an idle client keep-alive connection is kept open
 * @param upstreamResponseTimeoutMs time from sending a request to receiving the response head
 * @param bodyIdleTimeoutMs longest pause while a request or response body is streaming
 * @param maxRequestLineBytes longest request line accepted (414 beyond)
 * @param maxRequestHeaderBytes largest request head accepted (431 beyond)
 * @param poolIdleTimeoutMs how long an idle upstream connection is kept for reuse
 * @param poolMaxIdlePerUpstream how many idle connections are kept per connector
 * @param tunnelIdleTimeoutMs longest silence on a WebSocket tunnel before both sides are closed
 * @param tlsHandshakeTimeoutMs time a client has to complete the TLS handshake
 */
public record HttpSettings(
        int connectTimeoutMs,
        int requestHeaderTimeoutMs,
        int keepaliveIdleTimeoutMs,
        int upstreamResponseTimeoutMs,
        int bodyIdleTimeoutMs,
        int maxRequestLineBytes,
        int maxRequestHeaderBytes,
        int poolIdleTimeoutMs,
        int poolMaxIdlePerUpstream,
        int tunnelIdleTimeoutMs,
        int tlsHandshakeTimeoutMs) {

    public static HttpSettings defaults() {
        return new HttpSettings(5_000, 10_000, 60_000, 60_000, 60_000, 8_192, 16_384, 60_000, 128, 300_000, 10_000);
    }
}
