package river.config;

/** How a proxy service chooses among its connectors. */
public record LoadBalanceConfig(Selection selection, Discovery discovery, HealthCheck healthCheck) {

    /** Round robin over a static list without health checks: River's default. */
    public static LoadBalanceConfig defaults() {
        return new LoadBalanceConfig(new Selection.RoundRobin(), new Discovery.Static(), new HealthCheck.None());
    }

    /** The selection algorithm. */
    public sealed interface Selection {
        record RoundRobin() implements Selection {}

        record Random() implements Selection {}

        /** Weighted FNV-1a hashing of the key, as Pingora does. */
        record Fnv(HashKey key) implements Selection {}

        /** Pingora's Ketama consistent-hash ring over the key. */
        record Ketama(HashKey key) implements Selection {}
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

    /** Where the connector list comes from. */
    public sealed interface Discovery {
        /** The connectors written in the file. */
        record Static() implements Discovery {}
    }

    /** How connector health is checked. */
    public sealed interface HealthCheck {
        /** No active checks. */
        record None() implements HealthCheck {}
    }
}
