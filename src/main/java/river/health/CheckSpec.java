package river.health;

/**
 * What an active health check does and when (River 0.8's {@code health-check}), independent of the
 * configuration classes.
 */
public record CheckSpec(Kind kind, String tlsSni, String host, String path, boolean tls, int expectStatus, int port,
        boolean reuseConnection, int frequencyMs, int timeoutMs, int failuresToEject, int successesToAdmit, boolean parallel) {

    public enum Kind {
        /** Connect (and with {@code tlsSni} complete a TLS handshake), then close. */
        TCP,
        /** {@code GET path} with {@code Host: host}; healthy when the status is {@code expectStatus}. */
        HTTP
    }

    public static CheckSpec tcp(String tlsSni, int frequencyMs, int timeoutMs, int failures, int successes, boolean parallel) {
        return new CheckSpec(Kind.TCP, tlsSni, null, null, tlsSni != null, 0, 0, false, frequencyMs, timeoutMs, failures, successes, parallel);
    }

    /** @param port the port to check, or 0 for the peer's own */
    public static CheckSpec http(String host, String path, boolean tls, int expectStatus, int port, boolean reuseConnection,
            int frequencyMs, int timeoutMs, int failures, int successes, boolean parallel) {
        return new CheckSpec(Kind.HTTP, tls ? host : null, host, path, tls, expectStatus, port, reuseConnection, frequencyMs, timeoutMs,
                failures, successes, parallel);
    }
}
