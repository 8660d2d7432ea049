package river.upstream;

/** Lets tests in other packages read the pool's package-private counters. */
public final class PoolCounters {
    private PoolCounters() {}

    /** Connection attempts the pool has started, including refused and timed-out ones. */
    public static long dialsStarted(ConnectionPool pool) {
        return pool.dialsStarted();
    }
}
