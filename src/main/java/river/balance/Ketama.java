package river.balance;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.zip.CRC32;
import river.upstream.Peer;

/**
 * Pingora's Ketama ring (pingora-ketama), point for point: 160 points per unit of weight, each the
 * CRC-32 of "ip\0port" followed by the previous point; a key goes to the first point at or after its
 * CRC-32, and failover walks on around the ring. Same servers, same key, same answer as River (Rust)
 * and nginx's {@code hash … consistent}.
 */
final class Ketama implements Algorithm {
    static final int POINTS_PER_WEIGHT = 160;

    /** Point hashes, ascending (unsigned 32-bit values held in longs). */
    private final long[] hashes;
    /** The peer index of each point. */
    private final int[] owners;
    private final int peers;

    Ketama(List<Peer> peers) {
        this.peers = peers.size();
        int total = 0;
        for (Peer p : peers) {
            total += p.weight() * POINTS_PER_WEIGHT;
        }
        long[] packed = new long[total];
        int n = 0;
        for (int i = 0; i < peers.size(); i++) {
            Peer p = peers.get(i);
            byte[] base = (p.ipText() + "\0" + p.address().getPort()).getBytes(StandardCharsets.US_ASCII);
            long prev = 0;
            for (int k = 0; k < p.weight() * POINTS_PER_WEIGHT; k++) {
                CRC32 crc = new CRC32();
                crc.update(base);
                crc.update(new byte[] {(byte) prev, (byte) (prev >>> 8), (byte) (prev >>> 16), (byte) (prev >>> 24)});
                long h = crc.getValue();
                // Hash in the high half, insertion order in the low half: a stable sort by hash.
                // The sign bit is flipped so that a signed sort orders the hashes as unsigned.
                packed[n] = ((h << 32) | n) ^ Long.MIN_VALUE;
                n++;
                prev = h;
            }
        }
        int[] ownerOfInsertion = new int[total];
        n = 0;
        for (int i = 0; i < peers.size(); i++) {
            for (int k = 0; k < peers.get(i).weight() * POINTS_PER_WEIGHT; k++) {
                ownerOfInsertion[n++] = i;
            }
        }
        Arrays.sort(packed);
        long[] h = new long[total];
        int[] o = new int[total];
        int kept = 0;
        for (long flipped : packed) {
            long point = flipped ^ Long.MIN_VALUE;
            long hash = point >>> 32;
            if (kept > 0 && h[kept - 1] == hash) {
                continue; // equal hashes: the first point inserted keeps its place
            }
            h[kept] = hash;
            o[kept] = ownerOfInsertion[(int) (point & 0xffffffffL)];
            kept++;
        }
        this.hashes = Arrays.copyOf(h, kept);
        this.owners = Arrays.copyOf(o, kept);
    }

    static long crc32(byte[] key) {
        CRC32 crc = new CRC32();
        crc.update(key);
        return crc.getValue();
    }

    /** The ring position a key starts at. */
    private int start(byte[] key) {
        long h = crc32(key);
        int i = Arrays.binarySearch(hashes, h);
        if (i < 0) {
            i = -i - 1;
        }
        return i == hashes.length ? 0 : i;
    }

    @Override
    public boolean hashes() {
        return true;
    }

    @Override
    public int pick(byte[] key, IntPredicate usable) {
        if (hashes.length == 0) {
            return -1;
        }
        int at = start(key);
        if (usable.test(owners[at])) {
            return owners[at];
        }
        // Peers already rejected are skipped without asking again.
        long[] rejected = new long[(peers + 63) / 64];
        int rejectedCount = 0;
        for (int k = 0; k < hashes.length && rejectedCount < peers; k++) {
            int owner = owners[(at + k) % hashes.length];
            if ((rejected[owner >>> 6] & (1L << owner)) != 0) {
                continue;
            }
            if (usable.test(owner)) {
                return owner;
            }
            rejected[owner >>> 6] |= 1L << owner;
            rejectedCount++;
        }
        return -1;
    }

    /** The owners of {@code count} consecutive points from a key's position, repeats included. */
    int[] walk(byte[] key, int count) {
        int at = start(key);
        int[] out = new int[count];
        for (int k = 0; k < count; k++) {
            out[k] = owners[(at + k) % hashes.length];
        }
        return out;
    }
}
