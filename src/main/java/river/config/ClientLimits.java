package river.config;

import java.util.Arrays;
import java.util.stream.Stream;

/**
 * What one client, one connection and the whole service may hold at once: the connection-level keys of a
 * service's {@code limits} node (the request-line and header-byte limits there belong to the HTTP
 * engine's {@link HttpSettings}). 0 turns a limit off, where the key allows it.
 *
 * @param maxConnections client connections the service holds at once; at the cap it stops accepting and
 *     new connections wait in the kernel's listen backlog until one closes
 * @param maxConnectionsPerAddress connections one client address may hold at once (0: no limit)
 * @param maxConnectionRatePerAddress new connections per second one client address may open, with a burst
 *     of as many (0: no limit)
 * @param maxConcurrentStreams HTTP/2 streams a client may have open at once on one connection
 * @param maxPipelinedRequests HTTP/1.1 requests a client may send ahead of the one being answered
 * @param maxRequestHeaders header fields in one request head (431 beyond)
 * @param maxRequestBodyBytes largest request body (413 beyond; 0: no limit)
 */
public record ClientLimits(
        int maxConnections,
        int maxConnectionsPerAddress,
        int maxConnectionRatePerAddress,
        int maxConcurrentStreams,
        int maxPipelinedRequests,
        int maxRequestHeaders,
        long maxRequestBodyBytes) {

    /** The keys of the {@code limits} node this record holds. */
    static final String[] KEYS = {"max-connections", "max-connections-per-address", "max-connection-rate-per-address",
        "max-concurrent-streams", "max-pipelined-requests", "max-request-headers", "max-request-body-bytes"};

    public static ClientLimits defaults() {
        return new ClientLimits(10_000, 0, 0, 128, 32, 100, 0);
    }

    /** Whether any limit is kept per client address (which needs a table of addresses). */
    public boolean perAddress() {
        return maxConnectionsPerAddress > 0 || maxConnectionRatePerAddress > 0;
    }

    /** These keys and {@code others}: everything a {@code limits} node may hold. */
    static String[] keysAnd(String... others) {
        return Stream.concat(Arrays.stream(others), Arrays.stream(KEYS)).toArray(String[]::new);
    }
}
