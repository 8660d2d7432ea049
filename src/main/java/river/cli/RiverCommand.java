package river.cli;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * River's command line, exactly as River (Rust) spells it, plus two extensions. The picocli model is
 * built in code rather than from annotations on the fields: reading annotations makes the JDK generate a
 * proxy class per annotation type and picocli reflect over every field, about 2 MB of the RSS River
 * starts with (docs/performance.md, "RSS after start"); the parsing, the errors and the help are picocli's.
 */
final class RiverCommand {
    boolean validateConfigs;
    Path configToml;
    Path configKdl;
    Integer threadsPerService;
    boolean daemonize;
    boolean upgrade;
    Path upgradeSocket;
    Path pidFile;
    Path logFile;
    boolean printDefaultConfig;
    boolean listEnvVars;
    boolean help;

    /** A picocli command line for River's options; {@link #parse} fills a RiverCommand from it. */
    static CommandLine commandLine() {
        CommandSpec spec = CommandSpec.create().name("river");
        spec.usageMessage()
                .sortOptions(false)
                .description("River: a memory-safe reverse proxy, configured in KDL or TOML.")
                .footer("", "Environment variables RIVER_* set the same options (see --list-env-vars).",
                        "Precedence: command line over environment over configuration file.",
                        "Exit status: 0 ok, 1 invalid configuration or failure to start, 2 usage error.");
        spec.addOption(flag("--validate-configs", "Validate the configuration, print a summary and exit"));
        spec.addOption(value("--config-toml", "PATH", Path.class, "Configuration file in River's TOML format"));
        spec.addOption(value("--config-kdl", "PATH", Path.class, "Configuration file in KDL"));
        spec.addOption(value("--threads-per-service", "N", Integer.class, "Worker threads per service"));
        spec.addOption(flag("--daemonize", "Run in the background (needs a pid file)"));
        spec.addOption(flag("--upgrade", "Take over the listeners of a running River through the upgrade socket"));
        spec.addOption(value("--upgrade-socket", "PATH", Path.class, "Absolute path of the upgrade socket"));
        spec.addOption(value("--pidfile", "PATH", Path.class, "Absolute path of the pid file"));
        spec.addOption(value("--log-file", "PATH", Path.class, "With --daemonize: where standard output and error go (default /dev/null)"));
        spec.addOption(flag("--print-default-config", "Print a KDL configuration with every option at its default and exit"));
        spec.addOption(flag("--list-env-vars", "List the environment variables River reads and exit"));
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).type(boolean.class).description("Show this help and exit").build());
        return new CommandLine(spec);
    }

    private static OptionSpec flag(String name, String description) {
        return OptionSpec.builder(name).type(boolean.class).description(description).build();
    }

    private static OptionSpec value(String name, String label, Class<?> type, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(type).description(description).build();
    }

    /** Parses {@code args} with {@code commandLine}; throws picocli's ParameterException on a usage error. */
    static RiverCommand parse(CommandLine commandLine, String... args) {
        ParseResult r = commandLine.parseArgs(args);
        RiverCommand c = new RiverCommand();
        c.validateConfigs = r.hasMatchedOption("--validate-configs");
        c.configToml = r.matchedOptionValue("--config-toml", null);
        c.configKdl = r.matchedOptionValue("--config-kdl", null);
        c.threadsPerService = r.matchedOptionValue("--threads-per-service", null);
        c.daemonize = r.hasMatchedOption("--daemonize");
        c.upgrade = r.hasMatchedOption("--upgrade");
        c.upgradeSocket = r.matchedOptionValue("--upgrade-socket", null);
        c.pidFile = r.matchedOptionValue("--pidfile", null);
        c.logFile = r.matchedOptionValue("--log-file", null);
        c.printDefaultConfig = r.hasMatchedOption("--print-default-config");
        c.listEnvVars = r.hasMatchedOption("--list-env-vars");
        c.help = r.isUsageHelpRequested();
        return c;
    }
}
