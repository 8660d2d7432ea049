package river.observe;

import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * River's text log line, {@link AppLog#TEXT_PATTERN} written out in code: the same characters a
 * PatternLayout of that pattern writes (its timestamp, padded level, thread, logger abbreviated to 24
 * characters, message, and the stack trace it appends for an exception), built from the same Logback
 * parts for the logger name and the stack trace. Compiling the pattern instead loads about 150 classes
 * (Logback's pattern parser and a converter per keyword), 0.4 MB of the RSS River starts with
 * (docs/performance.md, "RSS after start").
 */
public final class TextLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault());
    private final TargetLengthBasedClassNameAbbreviator logger = new TargetLengthBasedClassNameAbbreviator(24);
    private final ThrowableProxyConverter stackTrace = new ThrowableProxyConverter();

    @Override
    public void start() {
        stackTrace.setContext(getContext());
        stackTrace.start();
        super.start();
    }

    @Override
    public void stop() {
        stackTrace.stop();
        super.stop();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        TIME.formatTo(Instant.ofEpochMilli(event.getTimeStamp()), line);
        line.append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        line.append(" [").append(event.getThreadName()).append("] ").append(logger.abbreviate(event.getLoggerName()))
                .append(" - ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR)
                .append(stackTrace.convert(event));
        return line.toString();
    }
}
