package river.config;

import java.util.Optional;

/**
 * How a set of connectors is balanced and watched.
 *
 * @param refreshBounds the band re-resolution intervals of {@code dns}/{@code srv} connectors are clamped to
 */
public record LoadBalanceConfig(Selection selection, HealthCheck healthCheck, RefreshBounds refreshBounds) {

    /** Round robin without health checks: River's default. */
    public static LoadBalanceConfig defaults() {
        return new LoadBalanceConfig(new Selection.RoundRobin(), new HealthCheck.None(), RefreshBounds.DEFAULT);
    }

    /** The selection algorithm. */
    public sealed interface Selection {
        /** Hands this to the visitor's method for its kind: adding a kind fails to compile where it is not handled. */
        <R> R accept(Visitor<R> visitor);

        /** One method per kind. */
        interface Visitor<R> {
            R roundRobin(RoundRobin s);

            R random(Random s);

            R fnv(Fnv s);

            R ketama(Ketama s);
        }

        record RoundRobin() implements Selection {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.roundRobin(this);
            }
        }

        record Random() implements Selection {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.random(this);
            }
        }

        /** Weighted FNV-1a hashing of the key, as Pingora does. */
        record Fnv(HashKey key) implements Selection {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.fnv(this);
            }
        }

        /** Pingora's Ketama consistent-hash ring over the key. */
        record Ketama(HashKey key) implements Selection {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.ketama(this);
            }
        }
    }

    /** What a hashing selection hashes. */
    public enum HashKey {
        URI_PATH("UriPath"),
        SOURCE_ADDR_AND_URI_PATH("SourceAddrAndUriPath");

        private final String configName;

        HashKey(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** How connector health is checked actively. */
    public sealed interface HealthCheck {
        /** Hands this to the visitor's method for its kind: adding a kind fails to compile where it is not handled. */
        <R> R accept(Visitor<R> visitor);

        /** One method per kind. */
        interface Visitor<R> {
            R none(None check);

            R tcp(Tcp check);

            R http(Http check);
        }

        /** No active checks. */
        record None() implements HealthCheck {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.none(this);
            }
        }

        /** A TCP connect (and TLS handshake with {@code tlsSni}). */
        record Tcp(Optional<String> tlsSni, Schedule schedule) implements HealthCheck {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.tcp(this);
            }
        }

        /**
         * A request whose response status must be {@code expectStatus}.
         *
         * @param host sent as the Host header (and as SNI with {@code tls})
         * @param port a different port to check than traffic goes to, or empty
         */
        record Http(String host, String path, boolean tls, int expectStatus, Optional<Integer> port, boolean reuseConnection,
                Schedule schedule) implements HealthCheck {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.http(this);
            }
        }
    }

    /**
     * When checks run and how their results count.
     *
     * @param parallel check every server at once rather than one after another
     */
    public record Schedule(int frequencyMs, int timeoutMs, int consecutiveFailure, int consecutiveSuccess, boolean parallel) {
        public static final Schedule DEFAULT = new Schedule(5000, 1000, 1, 1, false);
    }

    /** The band DNS re-resolution intervals are clamped to, in seconds. */
    public record RefreshBounds(int minSeconds, int maxSeconds) {
        public static final RefreshBounds DEFAULT = new RefreshBounds(5, 300);
    }
}
