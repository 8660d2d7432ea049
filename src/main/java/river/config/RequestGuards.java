package river.config;

import java.util.List;
import java.util.Optional;

/**
 * What a service checks about a request and its client before anything else (River 0.8's
 * {@code normalization}, {@code client-ip}, {@code overload}), and about a connection before it is
 * served at all ({@code connection-filters}, an extension).
 *
 * @param connectionFilters block/allow CIDR filters applied at accept time, in order
 * @param redis where fleet-wide rate-limit buckets live, if anywhere
 * @param limits connections per client address and per service, streams and requests per connection,
 *     header count and body size
 */
public record RequestGuards(Normalization normalization, Optional<ClientIp> clientIp, Optional<Overload> overload,
        List<FilterConfig> connectionFilters, Optional<RedisLimits> redis, ClientLimits limits) {

    public RequestGuards {
        connectionFilters = List.copyOf(connectionFilters);
    }

    public RequestGuards(Normalization normalization, Optional<ClientIp> clientIp, Optional<Overload> overload,
            List<FilterConfig> connectionFilters, Optional<RedisLimits> redis) {
        this(normalization, clientIp, overload, connectionFilters, redis, ClientLimits.defaults());
    }

    public static RequestGuards defaults() {
        return new RequestGuards(Normalization.DEFAULT, Optional.empty(), Optional.empty(), List.of(), Optional.empty());
    }

    /**
     * Request normalization: each check on or off, and the answer to a request that fails one.
     * Everything but {@code headerNonAscii} is on by default.
     */
    public record Normalization(boolean dotSegments, boolean duplicateSlashes, boolean encodedSeparators, boolean controlCharacters,
            boolean percentEncoding, boolean host, boolean headerNonAscii, int status, String body) {
        public static final Normalization DEFAULT = new Normalization(true, true, true, true, true, true, false, 400, "");

        public boolean any() {
            return dotSegments || duplicateSlashes || encodedSeparators || controlCharacters || percentEncoding || host || headerNonAscii;
        }
    }

    /**
     * Where the client's address comes from behind trusted proxies.
     *
     * @param header the forwarding header, read right to left
     */
    public record ClientIp(List<CidrRange> trustedProxies, String header) {
        public ClientIp {
            trustedProxies = List.copyOf(trustedProxies);
        }
    }

    /**
     * How much work the service takes on; 0 means "not set".
     *
     * @param status the answer to a shed request (503 by default)
     */
    public record Overload(int maxConcurrentRequests, int maxHeaders, int maxHeaderBytes, int readTimeoutMs, int writeTimeoutMs,
            int drainTimeoutMs, int minSendRateBytes, int status, String body) {}

    /**
     * Rate-limit buckets kept in Redis, shared by every River using the same server and prefix.
     *
     * @param url a Redis URI ({@code redis://host:port/db})
     * @param keyPrefix put before every bucket key
     */
    /**
     * Fleet-wide buckets in Redis. {@code timeoutMs}: how long one bucket operation may take before the request is
     * checked against River's local buckets instead (a slow Redis must not slow every request).
     */
    public record RedisLimits(String url, String keyPrefix, int timeoutMs) {
        public static final int DEFAULT_TIMEOUT_MS = 200;

        public RedisLimits(String url, String keyPrefix) {
            this(url, keyPrefix, DEFAULT_TIMEOUT_MS);
        }
    }
}
