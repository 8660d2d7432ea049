package river.proxy;

import java.util.concurrent.TimeUnit;

/**
 * Overload's bounds on a client that holds a response back (slow loris in the response direction):
 * how long it may leave the response unread ({@code write-timeout-ms}) and the send rate it must keep
 * up once the response has had a grace period ({@code min-send-rate-bytes}). Immutable; the exchange
 * keeps the two timestamps it is asked about, so watching a client allocates nothing.
 */
final class SlowClientGuard {
    /** The minimum send rate is judged only after the response has had this long. */
    static final long MIN_RATE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How often a stalled client is looked at again. */
    static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long writeTimeoutNanos;
    private final long minSendRateBytes;

    SlowClientGuard(long writeTimeoutMs, long minSendRateBytes) {
        this.writeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, writeTimeoutMs));
        this.minSendRateBytes = Math.max(0, minSendRateBytes);
    }

    /** Whether the service bounds slow clients at all (else a stalled client is not even watched). */
    boolean active() {
        return writeTimeoutNanos > 0 || minSendRateBytes > 0;
    }

    /** When to look at a client that stalled at {@code stalledSince} for the first time. */
    long firstCheck(long stalledSince) {
        return stalledSince + (writeTimeoutNanos > 0 ? Math.min(writeTimeoutNanos, RECHECK_NANOS) : RECHECK_NANOS);
    }

    /**
     * Whether a client that stopped taking the response at {@code stalledSince} (0: it has not), and
     * has taken {@code bytesOut} since the head went out at {@code headSentAt}, is too slow at {@code now}.
     */
    boolean tooSlow(long now, long stalledSince, long headSentAt, long bytesOut) {
        if (stalledSince == 0) {
            return false;
        }
        if (writeTimeoutNanos > 0 && now - stalledSince >= writeTimeoutNanos) {
            return true;
        }
        long elapsed = now - headSentAt;
        return minSendRateBytes > 0 && headSentAt != 0 && elapsed > MIN_RATE_GRACE_NANOS
                && bytesOut * 1_000_000_000L / elapsed < minSendRateBytes;
    }
}
