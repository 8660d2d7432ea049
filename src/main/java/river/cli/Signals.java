package river.cli;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * River's signal handling, one place for every signal it acts on. A JVM started without {@code -Xrs}
 * keeps SIGQUIT for thread dumps and lets Java handle SIGTERM, SIGINT and SIGHUP ({@code sun.misc.Signal});
 * with {@code -Xrs} (as {@code bin/river} starts it) Java may handle none of them, so River installs its
 * own native handlers ({@link NativeSignals}) and owns SIGQUIT too. Handlers run on a River thread,
 * never in signal context.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);
    /** Linux's numbers, for the native handlers. */
    private static final Map<String, Integer> NUMBERS = Map.of("HUP", 1, "INT", 2, "QUIT", 3, "TERM", 15, "USR1", 10);
    private static final Map<Integer, Runnable> NATIVE = new ConcurrentHashMap<>();
    private static volatile Boolean nativeMode;

    private Signals() {}

    /**
     * Runs {@code action} on each {@code name} signal ("TERM", "INT", "HUP", "QUIT"); returns false when
     * this JVM cannot give River that signal (SIGQUIT without -Xrs).
     */
    static synchronized boolean on(String name, Runnable action) {
        if (useNative()) {
            int number = NUMBERS.get(name);
            NATIVE.put(number, action);
            if (NativeSignals.handle0(number) != 0) {
                NATIVE.remove(number);
                return false;
            }
            return true;
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether River owns every signal through its native handlers (the JVM runs with -Xrs). */
    static synchronized boolean useNative() {
        if (nativeMode == null) {
            nativeMode = reducedSignalUsage() && NativeSignals.load();
            if (nativeMode) {
                Thread reader = new Thread(Signals::dispatch, "river-signals");
                reader.setDaemon(true);
                reader.start();
            } else if (reducedSignalUsage()) {
                LOG.warn("the JVM runs with -Xrs but River's signal library is missing for {}: signals are not handled",
                        System.getProperty("os.arch"));
            }
        }
        return nativeMode;
    }

    private static boolean reducedSignalUsage() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.equals("-Xrs") || a.equals("-XX:+ReduceSignalUsage"));
    }

    private static void dispatch() {
        for (;;) {
            int number = NativeSignals.next0();
            if (number < 0) {
                LOG.error("River's signal pipe failed ({}): signals are no longer handled", number);
                return;
            }
            Runnable action = NATIVE.get(number);
            if (action != null) {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    LOG.error("handling signal {} failed", number, e);
                }
            }
        }
    }
}
