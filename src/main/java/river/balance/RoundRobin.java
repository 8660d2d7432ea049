package river.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;
import river.upstream.Peer;

/**
 * Weighted round robin: each peer appears in the rotation as many times as its weight, spread out
 * (nginx's smooth weighting) so that a heavy peer does not take its turns in a burst. One atomic
 * counter; an unusable peer's turn passes to the next in the rotation.
 */
final class RoundRobin implements Algorithm {
    private final int[] rotation;
    private final AtomicLong next = new AtomicLong();

    RoundRobin(List<Peer> peers) {
        this.rotation = Weights.smoothOrder(peers);
    }

    @Override
    public int pick(byte[] key, IntPredicate usable) {
        if (rotation.length == 0) {
            return -1;
        }
        long start = next.getAndIncrement();
        for (int k = 0; k < rotation.length; k++) {
            int i = rotation[(int) Math.floorMod(start + k, (long) rotation.length)];
            if (usable.test(i)) {
                return i;
            }
        }
        return -1;
    }
}
