package river.proxy;

/**
 * The timeouts an exchange enforces.
 *
 * @param upstreamResponseTimeoutMs from request sent to response head received
 * @param bodyIdleTimeoutMs longest pause in a streaming body, either direction
 */
public record EngineSettings(long upstreamResponseTimeoutMs, long bodyIdleTimeoutMs) {}
