package river.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import river.config.ConfigFormat;
import river.config.SystemOverrides;

/**
 * The settings River starts with, merged from the command line and the environment: a command-line
 * value wins over the environment variable, which wins over the configuration file (applied later
 * through {@link SystemOverrides}).
 */
record LaunchSettings(
        Path configFile,
        ConfigFormat format,
        boolean validateOnly,
        boolean upgrade,
        SystemOverrides overrides,
        Path logFile) {

    static LaunchSettings resolve(RiverCommand cli, Map<String, String> env) throws UsageException {
        Optional<Path> kdl = Optional.ofNullable(cli.configKdl).or(() -> envPath(env, EnvironmentVariable.RIVER_CONFIG_KDL));
        Optional<Path> toml = Optional.ofNullable(cli.configToml).or(() -> envPath(env, EnvironmentVariable.RIVER_CONFIG_TOML));
        if (cli.configKdl != null && cli.configToml == null) {
            toml = Optional.empty();
        } else if (cli.configToml != null && cli.configKdl == null) {
            kdl = Optional.empty();
        }
        if (kdl.isPresent() && toml.isPresent()) {
            throw new UsageException("--config-kdl and --config-toml (or RIVER_CONFIG_KDL and RIVER_CONFIG_TOML) are mutually exclusive");
        }
        if (kdl.isEmpty() && toml.isEmpty()) {
            throw new UsageException("no configuration given: use --config-kdl PATH or --config-toml PATH");
        }
        Optional<Integer> threads = Optional.ofNullable(cli.threadsPerService);
        if (threads.isEmpty()) {
            threads = envInt(env, EnvironmentVariable.RIVER_THREADS_PER_SERVICE);
        }
        if (threads.isPresent() && threads.get() < 1) {
            throw new UsageException("threads per service must be at least 1, got " + threads.get());
        }
        Optional<Boolean> daemonize = cli.daemonize ? Optional.of(true) : envBool(env, EnvironmentVariable.RIVER_DAEMONIZE);
        boolean upgrade = cli.upgrade || envBool(env, EnvironmentVariable.RIVER_UPGRADE).orElse(false);
        Optional<Path> pidFile = Optional.ofNullable(cli.pidFile).or(() -> envPath(env, EnvironmentVariable.RIVER_PIDFILE));
        Optional<Path> upgradeSocket = Optional.ofNullable(cli.upgradeSocket).or(() -> envPath(env, EnvironmentVariable.RIVER_UPGRADE_SOCKET));
        requireAbsolute(pidFile, "--pidfile");
        requireAbsolute(upgradeSocket, "--upgrade-socket");
        Optional<Path> logFile = Optional.ofNullable(cli.logFile).or(() -> envPath(env, EnvironmentVariable.RIVER_LOG_FILE));
        return new LaunchSettings(
                kdl.orElseGet(toml::get),
                kdl.isPresent() ? ConfigFormat.KDL : ConfigFormat.TOML,
                cli.validateConfigs,
                upgrade,
                new SystemOverrides(threads, daemonize, pidFile, upgradeSocket),
                logFile.orElse(Daemon.DEFAULT_LOG_FILE));
    }

    private static void requireAbsolute(Optional<Path> path, String option) throws UsageException {
        if (path.isPresent() && !path.get().isAbsolute()) {
            throw new UsageException(option + " must be an absolute path, got " + path.get());
        }
    }

    private static Optional<String> env(Map<String, String> env, EnvironmentVariable variable) {
        return Optional.ofNullable(env.get(variable.name())).map(String::strip).filter(s -> !s.isEmpty());
    }

    private static Optional<Path> envPath(Map<String, String> env, EnvironmentVariable variable) {
        return env(env, variable).map(Path::of);
    }

    private static Optional<Integer> envInt(Map<String, String> env, EnvironmentVariable variable) throws UsageException {
        Optional<String> s = env(env, variable);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Integer.parseInt(s.get()));
        } catch (NumberFormatException e) {
            throw new UsageException(variable + " must be a positive integer, got \"" + s.get() + "\"");
        }
    }

    private static Optional<Boolean> envBool(Map<String, String> env, EnvironmentVariable variable) throws UsageException {
        Optional<String> s = env(env, variable);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        switch (s.get().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes" -> {
                return Optional.of(true);
            }
            case "false", "0", "no" -> {
                return Optional.of(false);
            }
            default -> throw new UsageException(variable + " must be true or false, got \"" + s.get() + "\"");
        }
    }
}
