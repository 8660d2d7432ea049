package river.service;

import java.util.List;

/**
 * What one reload did, as {@link RiverServer#reload} returns it and logs it in one line: for a reload
 * that took effect, the services added, removed and changed and the listeners kept, added and
 * removed; for one that failed, its errors (located {@code file:line:column} when the configuration
 * did not validate) and the generation that is still serving.
 *
 * @param reload the reload's number (1 for the first since start)
 * @param generation the generation serving new connections after it
 */
public record ReloadOutcome(int reload, boolean ok, long millis, int generation, int servicesAdded, int servicesRemoved,
        int servicesChanged, int listenersKept, int listenersAdded, int listenersRemoved, List<String> errors) {
    public ReloadOutcome {
        errors = List.copyOf(errors);
    }

    /** The log line: {@code reload 3: ok in 41 ms: ...} or {@code reload 4 failed: ...; still serving generation 3}. */
    public String describe() {
        if (!ok) {
            return "reload " + reload + " failed: " + String.join("; ", errors) + "; still serving generation " + generation;
        }
        return "reload " + reload + ": ok in " + millis + " ms: services +" + servicesAdded + " -" + servicesRemoved + " ~" + servicesChanged
                + ", listeners " + listenersKept + " kept, " + listenersAdded + " added, " + listenersRemoved + " removed; serving generation "
                + generation;
    }
}
