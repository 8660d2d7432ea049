package river.service;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.LogConfig;
import river.config.SystemConfig;
import river.observe.AccessLog;
import river.observe.AccessLogSinks;
import river.observe.AccessLogWriter;
import river.observe.AppLog;
import river.observe.LogFiles;

/** Turns the log configuration ({@code system { log … access-log … }}) into River's log writers. */
public final class LogWiring {
    private static final Logger LOG = LoggerFactory.getLogger(LogWiring.class);

    private LogWiring() {}

    /**
     * Applies the application log's configuration to Logback: its destination and format (only when
     * they differ from what logback.xml sets, so RIVER_LOG_LEVEL and a custom logback.xml keep working
     * for a configuration that says nothing), the root level and every logger's level.
     */
    public static void applyApplicationLog(LogConfig log) {
        if (log.applicationLogIsDefault()) {
            return;
        }
        if (!log.output().equals(LogConfig.Output.STDERR) || log.format() != LogConfig.Format.TEXT) {
            AppLog.output(log.output().stream().orElse(null), log.output().file().map(f -> files(log.output())).orElse(null),
                    log.format() == LogConfig.Format.JSON);
        }
        AppLog.levels(log.level(), log.loggers());
    }

    /** Applies changed levels on reload (destination and format stay until a restart). */
    static void applyLevels(LogConfig log) {
        if (!log.applicationLogIsDefault() || AppLog.levelsSet()) {
            AppLog.levels(log.level(), log.loggers());
        }
    }

    /**
     * The access log's writer, or null when the access log is off ({@code access-log "off"}, or the
     * logger {@code river.access} set below INFO, as River's logback.xml and the tests' do).
     */
    static AccessLogWriter accessLogWriter(SystemConfig system) {
        LogConfig.Access access = system.observability().logs().access();
        if (!system.accessLog()) {
            return null;
        }
        if (!LoggerFactory.getLogger("river.access").isInfoEnabled()) {
            LOG.info("the access log is off: the logger river.access is set below INFO");
            return null;
        }
        AccessLogWriter.Sink sink = access.output().file().isPresent()
                ? AccessLogSinks.file(files(access.output()))
                : AccessLogSinks.stream(access.output().stream().get().equals("stderr") ? System.err : System.out);
        return new AccessLogWriter(sink, access.queueLines());
    }

    static AccessLog.Format format(LogConfig.Access access) {
        return access.format() == LogConfig.Format.JSON ? AccessLog.Format.JSON : AccessLog.Format.TEXT;
    }

    private static LogFiles files(LogConfig.Output output) {
        LogConfig.Rotation r = output.rotation();
        return new LogFiles(output.file().get(), r.maxSizeBytes(), r.maxHistory(), r.hourly(), r.totalSizeCapBytes(), r.compress());
    }
}
