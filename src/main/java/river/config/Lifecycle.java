package river.config;

/**
 * How an instance hands over and winds down (extensions in River's {@code system} block).
 *
 * @param upgradeTimeoutSeconds how long an instance started with {@code --upgrade} waits for the running
 *     one to hand over its listeners, and how long the running one waits for the new one to serve
 * @param closeSpreadMs the window over which a draining instance closes its idle keep-alive
 *     connections, each at its own moment, so that clients do not all reconnect at once
 * @param gracefulShutdownTimeoutSeconds after the grace period, how long closing what remains may
 *     take before the process exits regardless
 */
public record Lifecycle(int upgradeTimeoutSeconds, int closeSpreadMs, int gracefulShutdownTimeoutSeconds) {
    public static final Lifecycle DEFAULTS = new Lifecycle(60, 1_000, 5);
}
