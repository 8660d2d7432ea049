package river.proxy;

/**
 * The exchange's source of time, in the units and with the meaning of {@link System#nanoTime}.
 * Injected so that state-machine tests move time themselves instead of waiting for it.
 */
@FunctionalInterface
public interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
