package river.testsupport;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Records what one logger (and its children) writes while a test runs, so the test can wait for the
 * line that announces an event (a certificate reloaded, a server ejected) instead of sleeping.
 * Attach it before starting what logs; close it at the end of the test.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final Logger logger;
    private final List<String> lines = new ArrayList<>();
    /** The thread that logged each line, by the line's index. */
    private final List<String> threads = new ArrayList<>();

    private LogCapture(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
        setContext(logger.getLoggerContext());
        setName("capture-" + loggerName);
        start();
        logger.addAppender(this);
    }

    /** Captures {@code loggerName} and the loggers below it (e.g. {@code "river"} for all of River). */
    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        lines.add(event.getFormattedMessage());
        threads.add(event.getThreadName());
        notifyAll();
    }

    /** The lines logged so far. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** The threads that logged a line containing {@code text} so far. */
    public synchronized java.util.Set<String> threadsOf(String text) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                out.add(threads.get(i));
            }
        }
        return out;
    }

    /** How many lines logged so far contain {@code text}. */
    public synchronized int count(String text) {
        return (int) lines.stream().filter(l -> l.contains(text)).count();
    }

    /**
     * Waits until at least {@code n} lines contain {@code text}, returning the n-th; fails after 30 s,
     * which only stops a hung test.
     */
    public synchronized String await(String text, int n) throws InterruptedException {
        return await(l -> l.contains(text), n, "\"" + text + "\"");
    }

    /** Waits for the first line containing {@code text}. */
    public String await(String text) throws InterruptedException {
        return await(text, 1);
    }

    private synchronized String await(Predicate<String> match, int n, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            int seen = 0;
            for (String l : lines) {
                if (match.test(l) && ++seen == n) {
                    return l;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + n + " log line(s) " + what + " in 30 s; logged:\n" + String.join("\n", lines));
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    @Override
    public void close() {
        logger.detachAppender(this);
        stop();
    }
}
