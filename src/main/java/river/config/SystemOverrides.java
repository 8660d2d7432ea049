package river.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * System settings given outside the file, by command line or environment; each present value replaces
 * the file's. {@code source} names where they came from, for error messages.
 */
public record SystemOverrides(
        Optional<Integer> threadsPerService,
        Optional<Boolean> daemonize,
        Optional<Path> pidFile,
        Optional<Path> upgradeSocket) {

    public static SystemOverrides none() {
        return new SystemOverrides(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    SystemConfig applyTo(SystemConfig file) {
        return new SystemConfig(
                threadsPerService.orElse(file.threadsPerService()),
                daemonize.orElse(file.daemonize()),
                pidFile.or(file::pidFile),
                upgradeSocket.or(file::upgradeSocket),
                file.gracePeriodSeconds(),
                file.accessLog(),
                file.dnsServers(),
                file.lifecycle(),
                file.observability());
    }
}
