package river.balance;

/**
 * What River knows of one peer's health: the active checks' verdict, and passive ejection after
 * failures in a row. Read on every selection, written by the checker and by exchanges.
 */
public final class PeerHealth {
    /** Failures in a row (connect failures, broken or timed-out responses) that eject a peer. */
    static final int PASSIVE_FAILURES = 3;
    static final long FIRST_EJECTION_MS = 5_000;
    static final long LONGEST_EJECTION_MS = 60_000;

    private volatile boolean activeHealthy;
    /** No passive ejection pending: selection then reads no clock. */
    private static final long NOT_EJECTED = Long.MIN_VALUE;
    private volatile long ejectedUntilNanos = NOT_EJECTED;
    private volatile int failuresInARow;
    /** Passive ejections so far (written under this object's lock). */
    private volatile long ejections;
    private long nextEjectionMs = FIRST_EJECTION_MS;
    /** Active check results in a row, counted by the checker only. */
    private int checkSuccesses;
    private int checkFailures;
    /** No active check has passed yet: the first pass admits a new server, whatever the threshold. */
    private boolean neverPassed = true;

    /** @param healthyAtFirst false when active checks must pass before the peer gets traffic */
    PeerHealth(boolean healthyAtFirst) {
        this.activeHealthy = healthyAtFirst;
    }

    /** Whether the peer gets traffic now: its active checks pass and it is not ejected for failed requests. */
    public boolean serving() {
        return usable();
    }

    /** Whether the active checks consider the peer healthy (true for peers without checks). */
    public boolean activeHealthy() {
        return activeHealthy;
    }

    /** How many times failed requests have ejected the peer. */
    public long ejections() {
        return ejections;
    }

    boolean usable() {
        if (!activeHealthy) {
            return false;
        }
        long until = ejectedUntilNanos;
        return until == NOT_EJECTED || System.nanoTime() - until >= 0;
    }

    /**
     * Counts one active check; the verdict flips after {@code failuresToEject} failures or
     * {@code successesToAdmit} successes in a row, except that a server's very first passing check
     * admits it (a new server is not held back by a threshold meant for a failed one). Returns true
     * when the verdict changed.
     */
    public synchronized boolean recordCheck(boolean passed, int failuresToEject, int successesToAdmit) {
        if (passed) {
            checkFailures = 0;
            checkSuccesses++;
            boolean first = neverPassed;
            neverPassed = false;
            // A passing check outweighs passive evidence: end any ejection for failed requests.
            ejectedUntilNanos = NOT_EJECTED;
            failuresInARow = 0;
            nextEjectionMs = FIRST_EJECTION_MS;
            if (!activeHealthy && (first || checkSuccesses >= successesToAdmit)) {
                activeHealthy = true;
                return true;
            }
        } else {
            checkSuccesses = 0;
            checkFailures++;
            if (activeHealthy && checkFailures >= failuresToEject) {
                activeHealthy = false;
                return true;
            }
        }
        return false;
    }

    /** Counts a request's outcome; returns true when this failure ejected the peer. */
    boolean recordRequest(boolean success, long now) {
        if (success) {
            if (failuresInARow != 0) { // the common case takes no lock
                synchronized (this) {
                    failuresInARow = 0;
                    nextEjectionMs = FIRST_EJECTION_MS;
                }
            }
            return false;
        }
        synchronized (this) {
            return countFailure(now);
        }
    }

    private boolean countFailure(long now) {
        long until = ejectedUntilNanos;
        if (++failuresInARow < PASSIVE_FAILURES || (until != NOT_EJECTED && now - until < 0)) {
            return false;
        }
        // Ejected for a while; a failure right after readmission doubles the next ejection.
        ejectedUntilNanos = now + nextEjectionMs * 1_000_000L;
        ejections++;
        nextEjectionMs = Math.min(LONGEST_EJECTION_MS, nextEjectionMs * 2);
        failuresInARow = PASSIVE_FAILURES - 1;
        return true;
    }
}
