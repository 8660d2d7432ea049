package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.FileWait;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverProcess;

/**
 * The packaged River with {@code system { log { … } }}: the application log as JSON lines in a file,
 * with the levels the configuration gives single loggers, and the access log as JSON lines on stdout.
 */
class LogsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;

    @Test
    void jsonApplicationLogToAFileWithLevelsPerLoggerAndJsonAccessLogOnStdout() throws Exception {
        Path appLog = dir.resolve("logs/river.log");
        Files.createDirectories(appLog.getParent());
        int port = Ports.free();
        Files.writeString(dir.resolve("river.kdl"), """
                system {
                    threads-per-service 1
                    access-log "stdout" format="json"
                    log {
                        output "%s" max-size="10MB"
                        format "json"
                        level "info"
                        logger "river.service" level="warn"
                        logger "river.modules.normalize" level="debug"
                    }
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:%d"
                        }
                        connectors {
                            "127.0.0.1:%d"
                        }
                    }
                }
                """.formatted(appLog, port, Ports.free()));
        try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
            assertThat(FileWait.awaitContains(appLog, "River started", river.process()::isAlive)).as("the start line in %s", appLog).isTrue();
            try (RawHttp raw = new RawHttp(port)) {
                raw.send("GET /a%09b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); // refused by normalization, logged at debug
                assertThat(raw.read().status()).isEqualTo(400);
            }
            assertThat(FileWait.awaitContains(appLog, "rejected GET", river.process()::isAlive)).isTrue();
            river.awaitOutput("\"status\":400", true);

            List<JsonNode> lines = new ArrayList<>();
            for (String line : Files.readAllLines(appLog)) {
                lines.add(JSON.readTree(line)); // every line is one JSON object
            }
            Set<String> loggers = new HashSet<>();
            for (JsonNode n : lines) {
                Set<String> names = new HashSet<>();
                n.fieldNames().forEachRemaining(names::add);
                assertThat(names).as("%s", n).containsAll(Set.of("ts", "level", "logger", "thread", "msg"));
                assertThat(names).as("%s", n).isSubsetOf(Set.of("ts", "level", "logger", "thread", "msg", "error"));
                assertThat(n.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
                assertThat(n.get("level").asText()).isIn("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
                loggers.add(n.get("logger").asText());
            }
            assertThat(lines).anySatisfy(n -> {
                assertThat(n.get("logger").asText()).isEqualTo("river.cli.Launcher");
                assertThat(n.get("level").asText()).isEqualTo("INFO");
                assertThat(n.get("msg").asText()).startsWith("River started");
            });
            assertThat(lines).anySatisfy(n -> {
                assertThat(n.get("logger").asText()).isEqualTo("river.modules.normalize.NormalizationModule");
                assertThat(n.get("level").asText()).isEqualTo("DEBUG");
                assertThat(n.get("msg").asText()).contains("rejected GET /a%09b");
            });
            // river.service is at warn: its info lines ("service proxy listening on …") are not written.
            assertThat(loggers).noneMatch(l -> l.startsWith("river.service"));
            // The application log went to the file only.
            assertThat(Files.readString(river.stderr())).doesNotContain("River started");

            JsonNode access = JSON.readTree(Files.readAllLines(river.stdout()).get(0));
            assertThat(access.get("path").asText()).isEqualTo("/a%09b");
            assertThat(access.get("status").asInt()).isEqualTo(400);
            assertThat(access.get("service").asText()).isEqualTo("proxy");
        }
    }

    @Test
    void withoutALogBlockTheLogIsTextLinesOnStderrAtRiverLogLevelWithNettyAtWarn() throws Exception {
        int port = Ports.free();
        Files.writeString(dir.resolve("river.kdl"), """
                system {
                    threads-per-service 1
                    access-log "stdout"
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:%d"
                        }
                        connectors {
                            "127.0.0.1:%d"
                        }
                    }
                }
                """.formatted(port, Ports.free()));
        try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), List.of(), java.util.Map.of("RIVER_LOG_LEVEL", "debug"),
                "--config-kdl", "river.kdl")) {
            assertThat(FileWait.awaitContains(river.stderr(), "River started", river.process()::isAlive)).isTrue();
            try (RawHttp raw = new RawHttp(port)) {
                raw.send("GET /a%09b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); // refused by normalization, logged at debug
                assertThat(raw.read().status()).isEqualTo(400);
            }
            assertThat(FileWait.awaitContains(river.stderr(), "rejected GET", river.process()::isAlive)).isTrue();
            river.awaitOutput("status=400", true); // river.access stays at INFO: the access log is on
            List<String> lines = Files.readAllLines(river.stderr());
            String stamp = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)";
            assertThat(lines).anyMatch(l -> l.matches(stamp + " INFO  \\[main\\] river\\.cli\\.Launcher - River started: .*"));
            assertThat(lines).anyMatch(l -> l.matches(stamp + " DEBUG \\[[^\\]]+\\] r\\.m\\.n\\.NormalizationModule - .*rejected GET /a%09b.*"));
            // io.netty is at WARN whatever the root level: none of Netty's many debug lines at start.
            assertThat(lines).noneMatch(l -> l.matches(stamp + " DEBUG \\[[^\\]]+\\] i\\.n\\..*"));
        }
    }
}
