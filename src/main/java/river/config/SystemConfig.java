package river.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Process-wide settings (River's {@code system} block).
 *
 * @param threadsPerService event-loop threads each service runs on
 * @param daemonize whether River detaches into the background (requires {@code pidFile})
 * @param pidFile where the daemon's pid is written
 * @param upgradeSocket the Unix socket listeners are handed over on during an upgrade
 * @param gracePeriodSeconds how long in-flight requests may run after SIGTERM before River exits
 * @param accessLog whether the access log is on; where and how it is written: {@code observability().logs().access()}
 * @param dnsServers the name servers ({@code ip:port}) discovery asks; empty for the system's (/etc/resolv.conf)
 * @param lifecycle upgrade wait, idle-connection close spread and the final shutdown bound
 * @param observability the admin listener and metrics, logs and traces
 */
public record SystemConfig(
        int threadsPerService,
        boolean daemonize,
        Optional<Path> pidFile,
        Optional<Path> upgradeSocket,
        int gracePeriodSeconds,
        boolean accessLog,
        java.util.List<String> dnsServers,
        Lifecycle lifecycle,
        Observability observability) {
    public static final int DEFAULT_THREADS_PER_SERVICE = 8;
    public static final int DEFAULT_GRACE_PERIOD_SECONDS = 30;

    public SystemConfig {
        dnsServers = java.util.List.copyOf(dnsServers);
    }

    public SystemConfig(int threadsPerService, boolean daemonize, Optional<Path> pidFile, Optional<Path> upgradeSocket,
            int gracePeriodSeconds, boolean accessLog) {
        this(threadsPerService, daemonize, pidFile, upgradeSocket, gracePeriodSeconds, accessLog, java.util.List.of(), Lifecycle.DEFAULTS, Observability.DEFAULTS);
    }

    /** The settings used when a file has no {@code system} block. */
    public static SystemConfig defaults() {
        return new SystemConfig(DEFAULT_THREADS_PER_SERVICE, false, Optional.empty(), Optional.empty(), DEFAULT_GRACE_PERIOD_SECONDS, true);
    }
}
