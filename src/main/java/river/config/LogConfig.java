package river.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The application log ({@code system { log { … } }}) and the access log ({@code system { access-log … }}).
 *
 * @param level the root level: error, warn, info, debug, trace or off
 * @param output where the application log goes
 * @param format text lines or JSON lines
 * @param loggers levels of single loggers (and the loggers below them), by logger name, in file order
 * @param access the access log
 */
public record LogConfig(String level, Output output, Format format, Map<String, String> loggers, Access access) {
    public static final LogConfig DEFAULTS = new LogConfig("info", Output.STDERR, Format.TEXT, Map.of(), Access.DEFAULTS);

    public LogConfig {
        loggers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(loggers));
    }

    public LogConfig(String level) {
        this(level, Output.STDERR, Format.TEXT, Map.of(), Access.DEFAULTS);
    }

    public LogConfig withAccess(Access a) {
        return new LogConfig(level, output, format, loggers, a);
    }

    /** Whether the application log is set as River ships it (stderr, text, info, no logger levels): logback.xml then stays in charge. */
    public boolean applicationLogIsDefault() {
        return level.equals(DEFAULTS.level) && output.equals(Output.STDERR) && format == Format.TEXT && loggers.isEmpty();
    }

    /** The two forms of a log line. */
    public enum Format { TEXT, JSON }

    /**
     * Where a log goes: {@code "stdout"}, {@code "stderr"}, or a file (an absolute path) rotated by size and time.
     *
     * @param stream "stdout" or "stderr", empty for a file
     * @param file the file, empty for a stream
     * @param rotation how the file is rotated (ignored for a stream)
     */
    public record Output(Optional<String> stream, Optional<Path> file, Rotation rotation) {
        public static final Output STDOUT = new Output(Optional.of("stdout"), Optional.empty(), Rotation.DEFAULTS);
        public static final Output STDERR = new Output(Optional.of("stderr"), Optional.empty(), Rotation.DEFAULTS);

        public static Output file(Path file, Rotation rotation) {
            return new Output(Optional.empty(), Optional.of(file), rotation);
        }

        @Override
        public String toString() {
            return stream.orElseGet(() -> file.get().toString());
        }
    }

    /**
     * Rotation of a log file (Logback's size-and-time policy).
     *
     * @param maxSizeBytes rotate when the file reaches this size ({@code max-size}, default 100MB)
     * @param maxHistory periods of rotated files kept ({@code max-history}, default 7)
     * @param hourly rotate every hour rather than every day ({@code rotate "hourly"|"daily"})
     * @param totalSizeCapBytes at most this much in rotated files, 0 for no cap ({@code total-size-cap})
     * @param compress gzip rotated files ({@code compress=#true})
     */
    public record Rotation(long maxSizeBytes, int maxHistory, boolean hourly, long totalSizeCapBytes, boolean compress) {
        public static final Rotation DEFAULTS = new Rotation(100L * 1024 * 1024, 7, false, 0, false);
    }

    /**
     * The access log: one line per request.
     *
     * @param enabled false for {@code access-log "off"}
     * @param output where the lines go
     * @param format text ({@code key=value}) or JSON lines
     * @param queueLines lines that may wait for the writer; beyond that they are dropped and counted ({@code queue})
     */
    public record Access(boolean enabled, Output output, Format format, int queueLines) {
        public static final int DEFAULT_QUEUE_LINES = 16384;
        public static final Access DEFAULTS = new Access(true, Output.STDOUT, Format.TEXT, DEFAULT_QUEUE_LINES);
        public static final Access OFF = new Access(false, Output.STDOUT, Format.TEXT, DEFAULT_QUEUE_LINES);
    }
}
