package river.http;

/**
 * Limits and timeouts of HTTP/1.x client connections.
 *
 * @param requestHeaderTimeoutMs time from a request's first byte (or the connection's start) to its complete head
 * @param keepaliveIdleTimeoutMs how long an idle keep-alive connection waits for the next request
 */
public record Http1Settings(
        long requestHeaderTimeoutMs, long keepaliveIdleTimeoutMs, int maxRequestLineBytes, int maxRequestHeaderBytes) {}
