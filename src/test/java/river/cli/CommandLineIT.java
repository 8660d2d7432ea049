package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverProcess;
import river.testsupport.RiverProcess.Result;

/** River's command line, run as the real jar: options, environment, precedence and exit codes. */
class CommandLineIT {
    @TempDir
    static Path dir;

    static final String CONFIG = """
            system {
                threads-per-service 4
            }
            services {
                web {
                    listeners {
                        "127.0.0.1:8080"
                    }
                    connectors {
                        "127.0.0.1:9000"
                    }
                }
            }
            """;

    @BeforeAll
    static void writeConfig() throws Exception {
        Files.writeString(dir.resolve("river.kdl"), CONFIG);
        Files.writeString(dir.resolve("broken.kdl"), CONFIG.replace("threads-per-service 4", "threads-per-service \"four\"")
                .replace("\"127.0.0.1:9000\"", "\"127.0.0.1:9000\" proto=\"h2-only\""));
    }

    private static Result river(Map<String, String> env, String... args) throws Exception {
        return RiverProcess.run(dir, env, args);
    }

    @Test
    void helpWorksFromAnyDirectoryAndExitsZero() throws Exception {
        Result r = river(Map.of(), "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("--validate-configs", "--config-kdl", "--config-toml", "--threads-per-service",
                "--daemonize", "--upgrade", "--upgrade-socket", "--pidfile", "--print-default-config", "--list-env-vars");
    }

    @Test
    void validConfigValidatesWithExitZero() throws Exception {
        Result r = river(Map.of(), "--validate-configs", "--config-kdl", "river.kdl");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("service web", "listen 127.0.0.1:8080", "upstream 127.0.0.1:9000", "configuration is valid");
    }

    @Test
    void invalidConfigExitsOneAndListsEveryErrorWithItsPlace() throws Exception {
        Result r = river(Map.of(), "--validate-configs", "--config-kdl", "broken.kdl");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("2 errors", "broken.kdl:2:25: threads-per-service expects a positive integer",
                "broken.kdl:10:36: proto=\"h2-only\" needs TLS");
    }

    @Test
    void missingFileExitsOne() throws Exception {
        Result r = river(Map.of(), "--validate-configs", "--config-kdl", "nope.kdl");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("nope.kdl:1:1: cannot read the file: no such file");
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        assertThat(river(Map.of(), "--no-such-flag").exitCode()).isEqualTo(2);
        assertThat(river(Map.of(), "--validate-configs").exitCode()).isEqualTo(2);
        Result both = river(Map.of(), "--config-kdl", "river.kdl", "--config-toml", "river.toml");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.stderr()).contains("mutually exclusive");
        assertThat(river(Map.of(), "--config-kdl", "river.kdl", "--threads-per-service", "many").exitCode()).isEqualTo(2);
        assertThat(river(Map.of("RIVER_THREADS_PER_SERVICE", "many"), "--config-kdl", "river.kdl").exitCode()).isEqualTo(2);
    }

    @Test
    void commandLineBeatsEnvironmentWhichBeatsTheFile() throws Exception {
        assertThat(river(Map.of(), "--validate-configs", "--config-kdl", "river.kdl").stdout()).contains("threads-per-service=4 ");
        assertThat(river(Map.of("RIVER_THREADS_PER_SERVICE", "3"), "--validate-configs", "--config-kdl", "river.kdl").stdout())
                .contains("threads-per-service=3 ");
        assertThat(river(Map.of("RIVER_THREADS_PER_SERVICE", "3"), "--validate-configs", "--config-kdl", "river.kdl",
                        "--threads-per-service", "5").stdout())
                .contains("threads-per-service=5 ");
    }

    @Test
    void configFileCanComeFromTheEnvironmentAndTheFlagWins() throws Exception {
        assertThat(river(Map.of("RIVER_CONFIG_KDL", "river.kdl"), "--validate-configs").exitCode()).isZero();
        Result r = river(Map.of("RIVER_CONFIG_TOML", "missing.toml"), "--validate-configs", "--config-kdl", "river.kdl");
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void daemonizeNeedsAPidFileFromFileEnvironmentOrFlag() throws Exception {
        Result noPid = river(Map.of("RIVER_DAEMONIZE", "true"), "--validate-configs", "--config-kdl", "river.kdl");
        assertThat(noPid.exitCode()).isEqualTo(1);
        assertThat(noPid.stderr()).contains("daemonize is true but no pid-file");
        Result envPid = river(Map.of("RIVER_DAEMONIZE", "true", "RIVER_PIDFILE", "/tmp/river-test.pid"), "--validate-configs", "--config-kdl", "river.kdl");
        assertThat(envPid.exitCode()).isZero();
        assertThat(envPid.stdout()).contains("daemonize=true pid-file=/tmp/river-test.pid");
        Result flagPid = river(Map.of("RIVER_PIDFILE", "/tmp/env.pid"), "--validate-configs", "--config-kdl", "river.kdl",
                "--daemonize", "--pidfile", "/tmp/flag.pid");
        assertThat(flagPid.stdout()).contains("daemonize=true pid-file=/tmp/flag.pid");
        assertThat(river(Map.of(), "--validate-configs", "--config-kdl", "river.kdl", "--pidfile", "relative.pid").exitCode()).isEqualTo(2);
    }

    @Test
    void listEnvVarsNamesEveryVariable() throws Exception {
        Result r = river(Map.of(), "--list-env-vars");
        assertThat(r.exitCode()).isZero();
        for (EnvironmentVariable v : EnvironmentVariable.values()) {
            assertThat(r.stdout()).contains(v.name());
        }
    }

    @Test
    void printedDefaultConfigIsItselfValid() throws Exception {
        Result printed = river(Map.of(), "--print-default-config");
        assertThat(printed.exitCode()).isZero();
        Files.writeString(dir.resolve("default.kdl"), printed.stdout());
        Result r = river(Map.of(), "--validate-configs", "--config-kdl", "default.kdl");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("threads-per-service=8 daemonize=false");
    }

    @Test
    void riverCompatFilesValidateFromTheirFolder() throws Exception {
        Path compat = Path.of(CommandLineIT.class.getResource("/compat").toURI());
        for (String file : new String[] {"assets/test-config.kdl", "river-0.8/assets/test-config-acme.kdl"}) {
            assertThat(RiverProcess.run(compat, Map.of(), "--validate-configs", "--config-kdl", file).exitCode()).isZero();
        }
        for (String file : new String[] {"assets/test-config.toml", "assets/example-config.toml"}) {
            assertThat(RiverProcess.run(compat, Map.of(), "--validate-configs", "--config-toml", file).exitCode()).isZero();
        }
    }
}
