package river.balance;

import java.util.function.IntPredicate;

/**
 * A selection algorithm over a fixed list of peers (indexes into it). Immutable once built; picks are
 * lock-free.
 */
interface Algorithm {

    /**
     * The index of the peer for {@code key}, walking the algorithm's own failover order past peers
     * {@code usable} rejects; -1 when no peer is usable.
     *
     * @param key the hashed request key (null for algorithms that do not hash)
     */
    int pick(byte[] key, IntPredicate usable);

    /** Whether {@link #pick} reads the key (so it need not be built otherwise). */
    default boolean hashes() {
        return false;
    }
}
