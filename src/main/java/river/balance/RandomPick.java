package river.balance;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntPredicate;
import river.upstream.Peer;

/** Weighted random choice; after a few unusable draws, the next usable peer in list order. */
final class RandomPick implements Algorithm {
    private final int[] weighted;
    private final int peers;

    RandomPick(List<Peer> peers) {
        this.weighted = Weights.smoothOrder(peers);
        this.peers = peers.size();
    }

    @Override
    public int pick(byte[] key, IntPredicate usable) {
        if (weighted.length == 0) {
            return -1;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int draw = 0; draw < 4; draw++) {
            int i = weighted[random.nextInt(weighted.length)];
            if (usable.test(i)) {
                return i;
            }
        }
        return Weights.firstUsable(peers, random.nextInt(peers), usable);
    }
}
