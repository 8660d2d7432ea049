package river.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** River's command line model, built in code: every option reaches its field, and the help reads as it did with annotations. */
class RiverCommandTest {
    /** {@code river --help} as picocli printed it from the annotated RiverCommand (before the model was built in code). */
    private static final String HELP = """
            Usage: river [-h] [--daemonize] [--list-env-vars] [--print-default-config]
                         [--upgrade] [--validate-configs] [--config-kdl=PATH]
                         [--config-toml=PATH] [--log-file=PATH] [--pidfile=PATH]
                         [--threads-per-service=N] [--upgrade-socket=PATH]
            River: a memory-safe reverse proxy, configured in KDL or TOML.
                  --validate-configs   Validate the configuration, print a summary and exit
                  --config-toml=PATH   Configuration file in River's TOML format
                  --config-kdl=PATH    Configuration file in KDL
                  --threads-per-service=N
                                       Worker threads per service
                  --daemonize          Run in the background (needs a pid file)
                  --upgrade            Take over the listeners of a running River through
                                         the upgrade socket
                  --upgrade-socket=PATH
                                       Absolute path of the upgrade socket
                  --pidfile=PATH       Absolute path of the pid file
                  --log-file=PATH      With --daemonize: where standard output and error go
                                         (default /dev/null)
                  --print-default-config
                                       Print a KDL configuration with every option at its
                                         default and exit
                  --list-env-vars      List the environment variables River reads and exit
              -h, --help               Show this help and exit

            Environment variables RIVER_* set the same options (see --list-env-vars).
            Precedence: command line over environment over configuration file.
            Exit status: 0 ok, 1 invalid configuration or failure to start, 2 usage error.
            """;

    @Test
    void everyOptionReachesItsField() {
        RiverCommand c = RiverCommand.parse(RiverCommand.commandLine(), "--validate-configs", "--config-toml", "a.toml",
                "--config-kdl=b.kdl", "--threads-per-service", "3", "--daemonize", "--upgrade", "--upgrade-socket", "/run/u.sock",
                "--pidfile", "/run/r.pid", "--log-file", "/var/log/r.log", "--print-default-config", "--list-env-vars");
        assertThat(c.validateConfigs).isTrue();
        assertThat(c.configToml).isEqualTo(Path.of("a.toml"));
        assertThat(c.configKdl).isEqualTo(Path.of("b.kdl"));
        assertThat(c.threadsPerService).isEqualTo(3);
        assertThat(c.daemonize).isTrue();
        assertThat(c.upgrade).isTrue();
        assertThat(c.upgradeSocket).isEqualTo(Path.of("/run/u.sock"));
        assertThat(c.pidFile).isEqualTo(Path.of("/run/r.pid"));
        assertThat(c.logFile).isEqualTo(Path.of("/var/log/r.log"));
        assertThat(c.printDefaultConfig).isTrue();
        assertThat(c.listEnvVars).isTrue();
        assertThat(c.help).isFalse();
    }

    @Test
    void noOptionsLeaveEveryFieldUnset() {
        RiverCommand c = RiverCommand.parse(RiverCommand.commandLine());
        assertThat(new Object[] {c.configToml, c.configKdl, c.threadsPerService, c.upgradeSocket, c.pidFile, c.logFile}).containsOnlyNulls();
        assertThat(new boolean[] {c.validateConfigs, c.daemonize, c.upgrade, c.printDefaultConfig, c.listEnvVars, c.help}).containsOnly(false);
    }

    @Test
    void helpIsRequestedByEitherName() {
        assertThat(RiverCommand.parse(RiverCommand.commandLine(), "-h").help).isTrue();
        assertThat(RiverCommand.parse(RiverCommand.commandLine(), "--help").help).isTrue();
    }

    @Test
    void aBadValueOrAnUnknownOptionIsPicocliUsageError() {
        assertThatThrownBy(() -> RiverCommand.parse(RiverCommand.commandLine(), "--threads-per-service", "four"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--threads-per-service").hasMessageContaining("four");
        assertThatThrownBy(() -> RiverCommand.parse(RiverCommand.commandLine(), "--bogus"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--bogus");
        assertThatThrownBy(() -> RiverCommand.parse(RiverCommand.commandLine(), "--config-kdl"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--config-kdl");
    }

    @Test
    void theHelpReadsAsItDidWithAnnotations() {
        StringWriter out = new StringWriter();
        RiverCommand.commandLine().usage(new PrintWriter(out));
        assertThat(out.toString().replace(System.lineSeparator(), "\n")).isEqualTo(HELP);
    }
}
