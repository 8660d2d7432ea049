package river.cli;

import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** River's command line, exactly as River (Rust) spells it, plus two extensions. */
@Command(
        name = "river",
        mixinStandardHelpOptions = false,
        sortOptions = false,
        description = "River: a memory-safe reverse proxy, configured in KDL or TOML.",
        footer = {"", "Environment variables RIVER_* set the same options (see --list-env-vars).",
                "Precedence: command line over environment over configuration file.",
                "Exit status: 0 ok, 1 invalid configuration or failure to start, 2 usage error."})
final class RiverCommand {
    @Option(names = "--validate-configs", description = "Validate the configuration, print a summary and exit")
    boolean validateConfigs;

    @Option(names = "--config-toml", paramLabel = "PATH", description = "Configuration file in River's TOML format")
    Path configToml;

    @Option(names = "--config-kdl", paramLabel = "PATH", description = "Configuration file in KDL")
    Path configKdl;

    @Option(names = "--threads-per-service", paramLabel = "N", description = "Worker threads per service")
    Integer threadsPerService;

    @Option(names = "--daemonize", description = "Run in the background (needs a pid file)")
    boolean daemonize;

    @Option(names = "--upgrade", description = "Take over the listeners of a running River through the upgrade socket")
    boolean upgrade;

    @Option(names = "--upgrade-socket", paramLabel = "PATH", description = "Absolute path of the upgrade socket")
    Path upgradeSocket;

    @Option(names = "--pidfile", paramLabel = "PATH", description = "Absolute path of the pid file")
    Path pidFile;

    @Option(names = "--log-file", paramLabel = "PATH", description = "With --daemonize: where standard output and error go (default /dev/null)")
    Path logFile;

    @Option(names = "--print-default-config", description = "Print a KDL configuration with every option at its default and exit")
    boolean printDefaultConfig;

    @Option(names = "--list-env-vars", description = "List the environment variables River reads and exit")
    boolean listEnvVars;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit")
    boolean help;
}
