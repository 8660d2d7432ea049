package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** TextLayout writes exactly what a PatternLayout of {@link AppLog#TEXT_PATTERN} writes, event by event. */
class TextLayoutTest {
    @Test
    void everyLineMatchesThePatternLayout() {
        LoggerContext context = new LoggerContext();
        PatternLayout pattern = new PatternLayout();
        pattern.setContext(context);
        pattern.setPattern(AppLog.TEXT_PATTERN);
        pattern.start();
        TextLayout text = new TextLayout();
        text.setContext(context);
        text.start();
        IOException withCause = new IOException("upstream closed", new IllegalStateException("pool drained"));
        withCause.addSuppressed(new RuntimeException("while closing"));
        List<LoggingEvent> events = List.of(
                event(context, "river.Main", Level.INFO, "started {} services", null, 3),
                event(context, "river.upstream.health.ActiveHealthChecker", Level.WARN, "peer {} down", null, "127.0.0.1:9000"),
                event(context, "io.netty.channel.DefaultChannelPipeline", Level.ERROR, "unhandled", withCause),
                event(context, "x", Level.DEBUG, "no arguments {}", null),
                event(context, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.VeryLongClassNameIndeed", Level.TRACE, "deep", null));
        for (LoggingEvent e : events) {
            assertThat(text.doLayout(e)).isEqualTo(pattern.doLayout(e));
        }
        context.stop();
    }

    private static LoggingEvent event(LoggerContext context, String logger, Level level, String message, Throwable t, Object... args) {
        LoggingEvent e = new LoggingEvent(TextLayoutTest.class.getName(), context.getLogger(logger), level, message, t, args);
        e.setThreadName("river-web-1-2 with a long thread name");
        e.setTimeStamp(1_764_892_800_123L);
        return e;
    }
}
