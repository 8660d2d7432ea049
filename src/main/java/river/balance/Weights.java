package river.balance;

import java.util.List;
import java.util.function.IntPredicate;
import river.upstream.Peer;

/** Weight expansions shared by the algorithms. */
final class Weights {
    private Weights() {}

    /** Each peer index repeated by its weight, in nginx's smooth order (most credit first). */
    static int[] smoothOrder(List<Peer> peers) {
        int total = 0;
        for (Peer p : peers) {
            total += p.weight();
        }
        int[] credit = new int[peers.size()];
        int[] order = new int[total];
        for (int n = 0; n < total; n++) {
            int best = 0;
            for (int i = 0; i < peers.size(); i++) {
                credit[i] += peers.get(i).weight();
                if (credit[i] > credit[best]) {
                    best = i;
                }
            }
            credit[best] -= total;
            order[n] = best;
        }
        return order;
    }

    /** The first usable index from {@code start} onwards, wrapping; -1 if none. */
    static int firstUsable(int count, int start, IntPredicate usable) {
        for (int k = 0; k < count; k++) {
            int i = (start + k) % count;
            if (usable.test(i)) {
                return i;
            }
        }
        return -1;
    }
}
