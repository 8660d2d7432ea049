package river.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The admin listener ({@code system { admin { enabled true; listen "127.0.0.1:9901" } }}): metrics,
 * health, readiness, the effective configuration and reload. Off by default; loopback when on.
 *
 * @param enabled whether the admin listener is bound
 * @param listen where it listens ({@code ip:port} or {@code unix:/path})
 * @param tokenFile a file holding the bearer token every admin request must carry; none means no token
 * @param metrics whether request metrics are recorded (on with the admin listener; off to measure its cost)
 */
public record AdminConfig(boolean enabled, ListenAddress listen, Optional<Path> tokenFile, boolean metrics) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:9901";
    public static final AdminConfig DEFAULTS =
            new AdminConfig(false, new ListenAddress.Tcp("127.0.0.1", 9901), Optional.empty(), true);

    /** Whether requests are counted and timed: only when something can read the figures. */
    public boolean recording() {
        return enabled && metrics;
    }
}
