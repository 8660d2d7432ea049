package river.server;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Per client address: how many connections it holds and how fast it opens new ones. The rate is a
 * token bucket of {@code ratePerSecond} tokens refilled continuously, kept as one number per address
 * (GCRA: the time at which the bucket will be full again), so an address costs one small entry.
 *
 * <p>An entry lives while its address holds a connection or its bucket is not yet full again (at most a
 * second after its last connection), so the table holds about as many entries as the service holds
 * connections. A flood of distinct addresses (an IPv6 prefix) can add entries faster: past
 * {@code maxTracked} the table is swept of the entries no longer needed, and if it is still full a new
 * address is let in untracked: the service's connection cap still bounds what it can take.
 */
final class AddressLimits {
    /** Admission results; only {@link #ADMITTED} must be paired with {@link AddressLimits#closed}. */
    enum Admission { ADMITTED, UNTRACKED, TOO_MANY, TOO_FAST }

    private static final class Entry {
        int open;
        /** When the bucket is full again (nanos of the clock); GCRA's "theoretical arrival time". */
        long fullAt;
    }

    private final int maxPerAddress;
    /** Nanoseconds one token takes to refill; 0 when there is no rate limit. */
    private final long interval;
    /** How far ahead of now {@code fullAt} may be and still have a token: a burst of ratePerSecond. */
    private final long burstWindow;
    private final int maxTracked;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<InetAddress, Entry> entries = new ConcurrentHashMap<>();

    AddressLimits(int maxPerAddress, int ratePerSecond, int maxTracked, LongSupplier nanoClock) {
        this.maxPerAddress = maxPerAddress;
        this.interval = ratePerSecond > 0 ? TimeUnit.SECONDS.toNanos(1) / ratePerSecond : 0;
        this.burstWindow = ratePerSecond > 0 ? TimeUnit.SECONDS.toNanos(1) - interval : 0;
        this.maxTracked = maxTracked;
        this.nanoClock = nanoClock;
    }

    /** Counts a new connection from {@code address} if its limits allow it. */
    Admission open(InetAddress address) {
        long now = nanoClock.getAsLong();
        if (entries.size() >= maxTracked && !entries.containsKey(address)) {
            sweep(now);
            if (entries.size() >= maxTracked) {
                return Admission.UNTRACKED;
            }
        }
        Admission[] result = new Admission[1];
        entries.compute(address, (a, e) -> {
            Entry entry = e == null ? new Entry() : e;
            long fullAt = entry.fullAt - now < 0 ? now : entry.fullAt;
            if (maxPerAddress > 0 && entry.open >= maxPerAddress) {
                result[0] = Admission.TOO_MANY;
            } else if (interval > 0 && fullAt - now > burstWindow) {
                result[0] = Admission.TOO_FAST;
            } else {
                result[0] = Admission.ADMITTED;
                entry.open++;
                entry.fullAt = fullAt + interval;
            }
            return removable(entry, now) ? null : entry;
        });
        return result[0];
    }

    /** A connection that was {@link Admission#ADMITTED} has closed. */
    void closed(InetAddress address) {
        long now = nanoClock.getAsLong();
        entries.computeIfPresent(address, (a, e) -> {
            e.open--;
            return removable(e, now) ? null : e;
        });
    }

    /** Addresses in the table; read by tests. */
    int tracked() {
        return entries.size();
    }

    /** Connections {@code address} holds as counted here. */
    int openFrom(InetAddress address) {
        Entry e = entries.get(address);
        return e == null ? 0 : e.open;
    }

    private static boolean removable(Entry e, long now) {
        return e.open <= 0 && e.fullAt - now <= 0;
    }

    private void sweep(long now) {
        for (InetAddress a : entries.keySet()) {
            entries.computeIfPresent(a, (k, e) -> removable(e, now) ? null : e);
        }
    }
}
