package river.proxy;

/**
 * The timeouts an exchange enforces.
 *
 * @param upstreamResponseTimeoutMs from request sent to response head received
 * @param bodyIdleTimeoutMs longest pause in a streaming body, either direction
 * @param tunnelIdleTimeoutMs longest silence on a WebSocket tunnel before it is closed
 * @param clientWriteTimeoutMs longest a client may leave the response unread (its connection not
 *     writable) before it is disconnected; 0 for no limit beyond the body timeout
 * @param minSendRateBytes bytes per second a client that is holding the response back must still
 *     take (checked after a grace period); 0 for none
 */
public record EngineSettings(long upstreamResponseTimeoutMs, long bodyIdleTimeoutMs, long tunnelIdleTimeoutMs, long clientWriteTimeoutMs,
        long minSendRateBytes) {

    public EngineSettings(long upstreamResponseTimeoutMs, long bodyIdleTimeoutMs, long tunnelIdleTimeoutMs) {
        this(upstreamResponseTimeoutMs, bodyIdleTimeoutMs, tunnelIdleTimeoutMs, 0, 0);
    }
}
