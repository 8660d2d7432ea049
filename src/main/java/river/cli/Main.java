package river.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import river.config.ConfigError;
import river.config.ConfigException;
import river.config.ConfigLoader;
import river.config.RiverConfig;

/** River's entry point: parses the command line, loads the configuration, and runs or validates it. */
public final class Main {
    static final int OK = 0;
    static final int INVALID_CONFIG = 1;
    static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        applyNettyDefaults();
        applyTlsDefaults();
        Daemon.rememberArguments(args);
        System.exit(run(args, System.getenv(), Path.of("").toAbsolutePath(), System.out, System.err));
    }

    /**
     * Netty settings River is measured with, unless the operator set them (-D on the JVM command
     * line). Must run before any Netty class initialises. The pooled allocator copies header bytes
     * straight into its direct buffers (the adaptive one goes through a ByteBuffer view, measurably
     * slower for the many small writes of a header block). Leak detection is a debugging aid that
     * samples one buffer in 128 and records a stack trace for it; River's tests run it at paranoid.
     * Chunks of 1 MiB (maxOrder 7) instead of 4: each arena a thread uses allocates a whole chunk at its
     * first buffer and the JDK zeroes it, 3 MB of RSS at start for a buffer of a few KiB (River's buffers
     * are at most 64 KiB). Netty's own JFR events off: checking for JFR loads about 110 JFR classes
     * (docs/performance.md, "RSS after start").
     */
    static void applyNettyDefaults() {
        System.getProperties().putIfAbsent("io.netty.allocator.type", "pooled");
        System.getProperties().putIfAbsent("io.netty.leakDetection.level", "disabled");
        System.getProperties().putIfAbsent("io.netty.allocator.maxOrder", "7");
        System.getProperties().putIfAbsent("io.netty.jfr.enabled", "false");
    }

    /**
     * The JDK's TLS (used when BoringSSL does not load, or with -Driver.tls=jdk) lets a TLS 1.2
     * client ask for a renegotiation, a cheap way to make the server do a full handshake again
     * (testssl.sh: "Secure Client-Initiated Renegotiation VULNERABLE, DoS threat"); BoringSSL never
     * allows it. The JDK reads this property once, before its first TLS context, hence here.
     */
    static void applyTlsDefaults() {
        System.getProperties().putIfAbsent("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    }

    /** Runs River with the given environment and working directory; returns the exit status. */
    static int run(String[] args, Map<String, String> env, Path workingDirectory, PrintStream out, PrintStream err) {
        CommandLine commandLine = RiverCommand.commandLine();
        RiverCommand cli;
        try {
            cli = RiverCommand.parse(commandLine, args);
        } catch (CommandLine.ParameterException e) {
            err.println("river: " + e.getMessage());
            commandLine.usage(err);
            return USAGE;
        }
        if (cli.help) {
            commandLine.usage(out);
            return OK;
        }
        if (cli.listEnvVars) {
            for (EnvironmentVariable v : EnvironmentVariable.values()) {
                out.printf("%-28s %s%n", v.name(), v.description());
            }
            return OK;
        }
        if (cli.printDefaultConfig) {
            out.print(DefaultConfig.KDL);
            return OK;
        }
        LaunchSettings settings;
        try {
            settings = LaunchSettings.resolve(cli, env);
        } catch (UsageException e) {
            err.println("river: " + e.getMessage());
            err.println("Try 'river --help' for more information.");
            return USAGE;
        }
        RiverConfig config;
        try {
            config = new ConfigLoader(workingDirectory).load(settings.configFile(), settings.format(), settings.overrides());
        } catch (ConfigException e) {
            err.println("river: invalid configuration, " + e.errors().size() + (e.errors().size() == 1 ? " error:" : " errors:"));
            for (ConfigError error : e.errors()) {
                err.println("  " + error);
            }
            return INVALID_CONFIG;
        }
        if (settings.validateOnly()) {
            out.print(ConfigSummary.render(config));
            out.println(settings.configFile() + ": configuration is valid");
            return OK;
        }
        return Launcher.start(config, settings, out, err);
    }
}
