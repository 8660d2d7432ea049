package river.modules.ratelimit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * River's bucket: starts full with {@code capacity} tokens, gains {@code refillQty} every
 * {@code refillMs}, never above capacity. Lock-free: the token count and the refill tick it was last
 * brought up to are packed in one long and changed by compare-and-set.
 */
final class TokenBucket {
    private static final long TICK_MASK = 0xffffffffL;

    private final long capacity;
    private final long refillQty;
    private final long refillMs;
    private final long epochMs;
    /** High 32 bits: tokens; low 32 bits: the refill tick (since {@link #epochMs}, modulo 2^32) last applied. */
    private final AtomicLong state;

    TokenBucket(long capacity, long refillQty, long refillMs, long nowMs) {
        this.capacity = Math.min(capacity, Integer.MAX_VALUE);
        this.refillQty = refillQty;
        this.refillMs = refillMs;
        this.epochMs = nowMs;
        this.state = new AtomicLong(this.capacity << 32);
    }

    /** Takes one token if there is one. */
    boolean tryTake(long nowMs) {
        while (true) {
            long s = state.get();
            long tick = tick(nowMs);
            long tokens = refilled(s, tick);
            if (tokens == 0) {
                return false;
            }
            if (state.compareAndSet(s, ((tokens - 1) << 32) | newer(s & TICK_MASK, tick))) {
                return true;
            }
        }
    }

    /** Gives back a token taken for a request another rule then refused. */
    void giveBack() {
        while (true) {
            long s = state.get();
            long tokens = Math.min(capacity, (s >>> 32) + 1);
            if (state.compareAndSet(s, (tokens << 32) | (s & TICK_MASK))) {
                return;
            }
        }
    }

    /** Milliseconds until the next refill (for Retry-After). */
    long millisUntilRefill(long nowMs) {
        return refillMs - Math.floorMod(nowMs - epochMs, refillMs);
    }

    /** Tokens now, for tests and diagnostics. */
    long tokens(long nowMs) {
        return refilled(state.get(), tick(nowMs));
    }

    private long tick(long nowMs) {
        return ((nowMs - epochMs) / refillMs) & TICK_MASK;
    }

    /** The later of two ticks, on the 2^32 circle. */
    private static long newer(long stored, long tick) {
        long ahead = (tick - stored) & TICK_MASK;
        return ahead == 0 || ahead > (TICK_MASK >>> 1) ? stored : tick;
    }

    private long refilled(long s, long tick) {
        // Ticks wrap at 2^32; a difference in the upper half means the stored tick is the newer one
        // (another thread got there first), so nothing is added.
        long ticks = (tick - (s & TICK_MASK)) & TICK_MASK;
        long tokens = s >>> 32;
        if (ticks == 0 || ticks > (TICK_MASK >>> 1)) {
            return tokens;
        }
        return ticks >= capacity ? capacity : Math.min(capacity, tokens + ticks * refillQty);
    }
}
