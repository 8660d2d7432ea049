package river.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.hook.DefaultShutdownHook;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;
import org.slf4j.Logger;

/**
 * River's default application log, set up in code when Logback starts (found through
 * {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}): text lines on stderr in
 * {@link AppLog#TEXT_PATTERN} (written by {@link TextLayout}), the root at {@code RIVER_LOG_LEVEL} (a system property or an environment
 * variable; default INFO), {@code io.netty} at WARN, {@code river.access} at INFO, and a shutdown hook
 * that stops Logback. It replaces a logback.xml in the jar because parsing one loads about 600 classes
 * (Joran and the JDK's XML parser), a few MB of the RSS River starts with (docs/performance.md). A
 * logback.xml or logback-test.xml on the class path, or {@code -Dlogback.configurationFile}, still wins:
 * this configurator then steps aside for Logback's own.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogDefaults extends ContextAwareBase implements ch.qos.logback.classic.spi.Configurator {
    /** The variable (or system property) that sets the root level of the default log. */
    static final String LEVEL_VARIABLE = "RIVER_LOG_LEVEL";
    private final Map<String, String> environment;
    private final ClassLoader classes;

    /** The configurator Logback's service loader creates. */
    public LogDefaults() {
        this(System.getenv(), LogDefaults.class.getClassLoader());
    }

    LogDefaults(Map<String, String> environment, ClassLoader classes) {
        this.environment = environment;
        this.classes = classes;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || classes.getResource("logback-test.xml") != null || classes.getResource("logback.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        TextLayout layout = new TextLayout();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        context.getLogger("river.access").setLevel(Level.INFO);
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(rootLevel());
        root.addAppender(stderr);
        // What logback.xml's <shutdownHook/> did: flush and stop the appenders when the JVM exits.
        DefaultShutdownHook hook = new DefaultShutdownHook();
        hook.setContext(context);
        Thread thread = new Thread(hook, "Logback shutdown hook [" + context.getName() + "]");
        context.putObject(CoreConstants.SHUTDOWN_HOOK_THREAD, thread);
        Runtime.getRuntime().addShutdownHook(thread);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** As logback.xml's {@code ${RIVER_LOG_LEVEL:-INFO}}: the system property first, then the environment. */
    Level rootLevel() {
        String value = System.getProperty(LEVEL_VARIABLE);
        if (value == null) {
            value = environment.get(LEVEL_VARIABLE);
        }
        return value == null ? Level.INFO : Level.toLevel(value.trim(), Level.INFO);
    }
}
