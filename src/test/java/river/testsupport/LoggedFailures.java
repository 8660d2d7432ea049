package river.testsupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records the lines (and the exception class of each) that one logger writes at DEBUG and above, for
 * a fuzz target to tell an error River handles on purpose from one it only survived: a handler that
 * closes a connection on any exception logs it, and that line is the only trace.
 */
public final class LoggedFailures extends AppenderBase<ILoggingEvent> {
    /** One logged line: the message and the name of the exception logged with it (or null). */
    public record Line(String message, String exception, String exceptionMessage) {}

    private final List<Line> lines = new ArrayList<>();

    private LoggedFailures(Logger logger) {
        setContext(logger.getLoggerContext());
        setName("failures-" + logger.getName());
        start();
        logger.setLevel(Level.DEBUG);
        // Kept off the console: a fuzzer would print millions of them.
        logger.setAdditive(false);
        logger.addAppender(this);
    }

    /** Starts recording {@code loggerName} at DEBUG for the rest of the JVM's life. */
    public static LoggedFailures of(String loggerName) {
        return new LoggedFailures((Logger) LoggerFactory.getLogger(loggerName));
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        IThrowableProxy t = event.getThrowableProxy();
        lines.add(new Line(event.getFormattedMessage(), t == null ? null : t.getClassName(), t == null ? null : t.getMessage()));
    }

    /** The lines recorded since the last call. */
    public synchronized List<Line> drain() {
        List<Line> copy = List.copyOf(lines);
        lines.clear();
        return copy;
    }
}
