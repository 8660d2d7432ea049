package river.proxy;

/**
 * The timeouts an exchange enforces.
 *
 * @param upstreamResponseTimeoutMs from request sent to response head received
 * @param bodyIdleTimeoutMs longest pause in a streaming body, either direction
 * @param tunnelIdleTimeoutMs longest silence on a WebSocket tunnel before it is closed
 */
public record EngineSettings(long upstreamResponseTimeoutMs, long bodyIdleTimeoutMs, long tunnelIdleTimeoutMs) {}
