package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** system { access-log … } and system { log { … } }: what they mean, and each mistake located. */
class LogConfigTest {
    private static final String SERVICE = "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
            + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n";

    private static RiverConfig parse(String system) throws ConfigException {
        return new ConfigLoader(Path.of("/tmp")).parse("system {\n" + system + "\n}\n" + SERVICE, "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static LogConfig logs(String system) throws ConfigException {
        return parse(system).system().observability().logs();
    }

    private static List<ConfigError> errors(String system) {
        try {
            parse(system);
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    @Test
    void todaysAccessLogSettingsKeepTheirMeaning() throws ConfigException {
        assertThat(parse("  access-log \"stdout\"").system().accessLog()).isTrue();
        assertThat(logs("  access-log \"stdout\"").access()).isEqualTo(LogConfig.Access.DEFAULTS);
        assertThat(parse("  access-log \"off\"").system().accessLog()).isFalse();
        assertThat(logs("  threads-per-service 2").access()).isEqualTo(LogConfig.Access.DEFAULTS);
        assertThat(logs("  threads-per-service 2")).isEqualTo(LogConfig.DEFAULTS);
    }

    @Test
    void anAccessLogFileWithFormatRotationAndQueue() throws ConfigException {
        LogConfig.Access a = logs("  access-log \"/var/log/river/access.log\" format=\"json\" max-size=\"10MB\" max-history=3 rotate=\"hourly\" "
                + "total-size-cap=\"1GB\" compress=#true queue=4096").access();
        assertThat(a.enabled()).isTrue();
        assertThat(a.format()).isEqualTo(LogConfig.Format.JSON);
        assertThat(a.queueLines()).isEqualTo(4096);
        assertThat(a.output().file()).contains(Path.of("/var/log/river/access.log"));
        assertThat(a.output().rotation()).isEqualTo(new LogConfig.Rotation(10L << 20, 3, true, 1L << 30, true));
        assertThat(logs("  access-log \"stderr\" format=\"text\"").access().output()).isEqualTo(LogConfig.Output.STDERR);
    }

    @Test
    void theApplicationLog() throws ConfigException {
        LogConfig l = logs("  log {\n    level \"warn\"\n    output \"/var/log/river/river.log\" max-size=\"5MB\"\n    format \"json\"\n"
                + "    logger \"river.upstream\" level=\"debug\"\n    logger \"io.netty\" level=\"error\"\n  }");
        assertThat(l.level()).isEqualTo("warn");
        assertThat(l.format()).isEqualTo(LogConfig.Format.JSON);
        assertThat(l.output().file()).contains(Path.of("/var/log/river/river.log"));
        assertThat(l.output().rotation().maxSizeBytes()).isEqualTo(5L << 20);
        assertThat(l.loggers()).containsExactly(Map.entry("river.upstream", "debug"), Map.entry("io.netty", "error"));
        assertThat(l.applicationLogIsDefault()).isFalse();
        assertThat(logs("  log {\n    output \"stdout\"\n  }").output()).isEqualTo(LogConfig.Output.STDOUT);
        assertThat(logs("  log {\n    level \"info\"\n  }").applicationLogIsDefault()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
            "  access-log \"access.log\"|2|14|access-log must be \"stdout\", \"stderr\", \"off\" or an absolute file path, found \"access.log\"",
            "  access-log \"/a.log\" format=\"yaml\"|2|30|format must be \"text\" or \"json\", found \"yaml\"",
            "  access-log \"/a.log\" max-size=\"lots\"|2|32|max-size expects a size such as \"100MB\"",
            "  access-log \"/a.log\" max-size=\"0MB\"|2|32|max-size expects a size such as \"100MB\"",
            "  access-log \"/a.log\" max-history=0|2|35|max-history expects a positive integer, found 0",
            "  access-log \"/a.log\" rotate=\"weekly\"|2|30|rotate must be \"daily\" or \"hourly\", found \"weekly\"",
            "  access-log \"/a.log\" queue=-1|2|29|queue expects a positive integer",
            "  access-log \"stdout\" max-size=\"1MB\"|2|23|max-size applies to a log file; access-log \"stdout\" is a stream",
            "  access-log \"off\" format=\"json\"|2|20|unknown property \"format\" on access-log \"off\"",
            "  access-log \"/a.log\" colour=\"red\"|2|23|unknown property \"colour\" on access-log",
            "  access-log|2|3|access-log expects exactly one value, found 0",
            "  log {\\n    level \"loud\"\\n  }|3|11|log level must be one of error, warn, info, debug, trace, off; found \"loud\"",
            "  log {\\n    format \"xml\"\\n  }|3|12|format must be \"text\" or \"json\", found \"xml\"",
            "  log {\\n    output \"river.log\"\\n  }|3|12|log output must be \"stdout\", \"stderr\" or an absolute file path, found \"river.log\"",
            "  log {\\n    output \"stderr\" max-history=2\\n  }|3|21|max-history applies to a log file; log output \"stderr\" is a stream",
            "  log {\\n    logger \"river.upstream\"\\n  }|3|5|logger needs the property level=",
            "  log {\\n    logger \"river..x\" level=\"debug\"\\n  }|3|12|logger expects a logger name such as \"river.upstream\", found \"river..x\"",
            "  log {\\n    logger \"river.x\" level=\"chatty\"\\n  }|3|28|log level must be one of",
            "  log {\\n    logger \"river.x\" level=\"warn\"\\n    logger \"river.x\" level=\"info\"\\n  }|4|5|logger \"river.x\" is given more than once",
            "  log {\\n    level \"info\"\\n    level \"warn\"\\n  }|4|5|\"level\" is given more than once",
            "  log {\\n    colour \"red\"\\n  }|3|5|unknown node \"colour\" in log; expected one of level, output, format, logger"})
    void mistakesAreLocated(String system, int line, int column, String message) {
        List<ConfigError> errors = errors(system.replace("\\n", "\n"));
        assertThat(errors).as("%s", errors).hasSize(1);
        ConfigError e = errors.get(0);
        assertThat(e.file()).isEqualTo("river.kdl");
        assertThat(e.line()).as("line of %s", e).isEqualTo(line);
        assertThat(e.column()).as("column of %s", e).isEqualTo(column);
        assertThat(e.message()).contains(message);
    }
}
