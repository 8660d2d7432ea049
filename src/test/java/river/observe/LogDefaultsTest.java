package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/** River's default log, set up in code as logback.xml used to set it, and out of the way of a logback.xml. */
class LogDefaultsTest {
    /** A class path without logback.xml or logback-test.xml (the tests' own class path has the latter). */
    private static final ClassLoader BARE = new ClassLoader(null) { };

    @Test
    void textOnStderrRootAtInfoNettyAtWarnAccessAtInfo() {
        LoggerContext context = new LoggerContext();
        assertThat(new LogDefaults(Map.of(), BARE).configure(context)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        try {
            ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
            assertThat(root.getLevel()).isEqualTo(Level.INFO);
            assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
            assertThat(context.getLogger("io.netty.channel").getEffectiveLevel()).isEqualTo(Level.WARN);
            assertThat(context.getLogger("river.access").getLevel()).isEqualTo(Level.INFO);
            ConsoleAppender<?> stderr = (ConsoleAppender<?>) root.getAppender("STDERR");
            assertThat(stderr.isStarted()).isTrue();
            assertThat(stderr.getTarget()).isEqualTo("System.err");
            assertThat(((LayoutWrappingEncoder<?>) stderr.getEncoder()).getLayout()).isInstanceOf(TextLayout.class);
            assertThat(context.getObject(CoreConstants.SHUTDOWN_HOOK_THREAD)).isInstanceOf(Thread.class);
        } finally {
            Runtime.getRuntime().removeShutdownHook((Thread) context.getObject(CoreConstants.SHUTDOWN_HOOK_THREAD));
            context.stop();
        }
    }

    @Test
    void riverLogLevelSetsTheRootLevelAndANonsenseValueMeansInfo() {
        assertThat(new LogDefaults(Map.of("RIVER_LOG_LEVEL", "debug"), BARE).rootLevel()).isEqualTo(Level.DEBUG);
        assertThat(new LogDefaults(Map.of("RIVER_LOG_LEVEL", " WARN "), BARE).rootLevel()).isEqualTo(Level.WARN);
        assertThat(new LogDefaults(Map.of("RIVER_LOG_LEVEL", "loud"), BARE).rootLevel()).isEqualTo(Level.INFO);
        assertThat(new LogDefaults(Map.of(), BARE).rootLevel()).isEqualTo(Level.INFO);
    }

    @Test
    void aLogbackXmlOnTheClassPathIsLeftInCharge(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("logback.xml"), "<configuration/>");
        try (URLClassLoader withXml = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            LoggerContext context = new LoggerContext();
            assertThat(new LogDefaults(Map.of(), withXml).configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
            assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
        }
    }
}
