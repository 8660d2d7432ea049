package river.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application log as the configuration sets it ({@code system { log { … } }}), applied to Logback
 * in place of logback.xml's appender for the root logger: where it goes, text or JSON lines, the root
 * level and the levels of single loggers.
 */
public final class AppLog {
    /** The text line, as logback.xml writes it. */
    public static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24} - %msg%n";
    private static final String APPENDER = "RIVER_LOG";
    /** Loggers whose level the last configuration set, so that the next one can give them back. */
    private static final Set<String> SET_BY_CONFIG = new HashSet<>();
    private static boolean levelsSet;

    private AppLog() {}

    /**
     * Sends the application log to {@code stream} ("stdout", "stderr") or to {@code files}, as JSON lines
     * or text. Throws IllegalStateException if Logback is not SLF4J's backend or the file cannot be opened.
     */
    public static synchronized void output(String stream, LogFiles files, boolean json) {
        LoggerContext context = context();
        Encoder<ILoggingEvent> encoder;
        if (json) {
            encoder = new JsonLines();
        } else {
            PatternLayoutEncoder p = new PatternLayoutEncoder();
            p.setPattern(TEXT_PATTERN);
            encoder = p;
        }
        OutputStreamAppender<ILoggingEvent> appender;
        if (files != null) {
            appender = files.appender(context, APPENDER, encoder);
        } else {
            encoder.setContext(context);
            encoder.start();
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(context);
            console.setName(APPENDER);
            console.setTarget("stdout".equals(stream) ? "System.out" : "System.err");
            console.setEncoder(encoder);
            console.start();
            appender = console;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> old = it.next();
            root.detachAppender(old);
            old.stop();
        }
        root.addAppender(appender);
    }

    /**
     * Sets the root level and each named logger's level (error, warn, info, debug, trace, off); loggers
     * an earlier call set and this one does not name go back to inheriting their level.
     */
    public static synchronized void levels(String root, Map<String, String> loggers) {
        LoggerContext context = context();
        levelsSet = true;
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(root, Level.INFO));
        for (String name : SET_BY_CONFIG) {
            if (!loggers.containsKey(name)) {
                context.getLogger(name).setLevel(null);
            }
        }
        SET_BY_CONFIG.clear();
        for (Map.Entry<String, String> e : loggers.entrySet()) {
            context.getLogger(e.getKey()).setLevel(Level.toLevel(e.getValue(), Level.INFO));
            SET_BY_CONFIG.add(e.getKey());
        }
    }

    /** Whether {@link #levels} has been called in this process. */
    public static synchronized boolean levelsSet() {
        return levelsSet;
    }

    private static LoggerContext context() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (factory instanceof LoggerContext c) {
            return c;
        }
        throw new IllegalStateException("the log configuration needs Logback as SLF4J's backend, found " + factory.getClass().getName());
    }

    /**
     * One JSON object per line: {@code ts} (ISO-8601, UTC, milliseconds), {@code level}, {@code logger},
     * {@code thread}, {@code msg}, and {@code error} (the stack trace) when the event has one.
     */
    public static final class JsonLines extends EncoderBase<ILoggingEvent> {
        private static final byte[] NONE = new byte[0];
        private static final byte[] TS = LogLine.ascii("{\"ts\":\"");
        private static final byte[] LEVEL = LogLine.ascii("\",\"level\":");
        private static final byte[] LOGGER = LogLine.ascii(",\"logger\":");
        private static final byte[] THREAD = LogLine.ascii(",\"thread\":");
        private static final byte[] MSG = LogLine.ascii(",\"msg\":");
        private static final byte[] ERROR = LogLine.ascii(",\"error\":");
        private static final byte[] END = LogLine.ascii("}\n");
        private final LogLine line = new LogLine();

        @Override
        public byte[] headerBytes() {
            return NONE;
        }

        @Override
        public synchronized byte[] encode(ILoggingEvent event) {
            line.reset().raw(TS).timestamp(event.getTimeStamp());
            line.raw(LEVEL).jsonString(event.getLevel().toString());
            line.raw(LOGGER).jsonString(event.getLoggerName());
            line.raw(THREAD).jsonString(event.getThreadName());
            line.raw(MSG).jsonString(event.getFormattedMessage() == null ? "" : event.getFormattedMessage());
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                line.raw(ERROR).jsonString(ThrowableProxyUtil.asString(thrown));
            }
            return line.raw(END).copy();
        }

        @Override
        public byte[] footerBytes() {
            return NONE;
        }
    }
}
