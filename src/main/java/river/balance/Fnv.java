package river.balance;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntPredicate;
import river.upstream.Peer;

/**
 * Pingora's weighted FNV-1a selection, so that a key lands on the same server as under River (Rust):
 * servers ordered by address, the first pick from the weight-expanded list at FNV-1a-64(key), each
 * failover pick at the FNV-1a-64 of the previous hash (little-endian) over the plain list.
 */
final class Fnv implements Algorithm {
    private static final long OFFSET = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;
    /** Failover picks tried before walking the list in order. */
    private static final int MAX_PICKS = 256;

    /** Peer indexes in address order. */
    private final int[] sorted;
    /** Positions in {@link #sorted}, each repeated by its peer's weight. */
    private final int[] weighted;

    Fnv(List<Peer> peers) {
        Integer[] order = new Integer[peers.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparing((Integer i) -> peers.get(i), Fnv::compareAddresses));
        this.sorted = Arrays.stream(order).mapToInt(Integer::intValue).toArray();
        int total = 0;
        for (Peer p : peers) {
            total += p.weight();
        }
        this.weighted = new int[total];
        int n = 0;
        for (int position = 0; position < sorted.length; position++) {
            for (int w = 0; w < peers.get(sorted[position]).weight(); w++) {
                weighted[n++] = position;
            }
        }
    }

    /** Rust's order of socket addresses: IPv4 before IPv6, then the address bytes, then the port. */
    static int compareAddresses(Peer a, Peer b) {
        byte[] x = a.address().getAddress().getAddress();
        byte[] y = b.address().getAddress().getAddress();
        if (x.length != y.length) {
            return Integer.compare(x.length, y.length);
        }
        int c = Arrays.compareUnsigned(x, y);
        return c != 0 ? c : Integer.compare(a.address().getPort(), b.address().getPort());
    }

    static long fnv1a(byte[] bytes) {
        long h = OFFSET;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= PRIME;
        }
        return h;
    }

    static long fnv1a(long value) {
        long h = OFFSET;
        for (int i = 0; i < 8; i++) {
            h ^= (value >>> (8 * i)) & 0xff;
            h *= PRIME;
        }
        return h;
    }

    @Override
    public boolean hashes() {
        return true;
    }

    @Override
    public int pick(byte[] key, IntPredicate usable) {
        if (sorted.length == 0) {
            return -1;
        }
        long h = fnv1a(key);
        int first = sorted[weighted[(int) Long.remainderUnsigned(h, weighted.length)]];
        if (usable.test(first)) {
            return first;
        }
        for (int k = 1; k < MAX_PICKS; k++) {
            h = fnv1a(h);
            int i = sorted[(int) Long.remainderUnsigned(h, sorted.length)];
            if (usable.test(i)) {
                return i;
            }
        }
        return Weights.firstUsable(sorted.length, first, usable);
    }

    /** The first {@code count} picks for a key, usable or not (Pingora's iteration order). */
    int[] sequence(byte[] key, int count) {
        int[] out = new int[count];
        long h = fnv1a(key);
        out[0] = sorted[weighted[(int) Long.remainderUnsigned(h, weighted.length)]];
        for (int k = 1; k < count; k++) {
            h = fnv1a(h);
            out[k] = sorted[(int) Long.remainderUnsigned(h, sorted.length)];
        }
        return out;
    }
}
