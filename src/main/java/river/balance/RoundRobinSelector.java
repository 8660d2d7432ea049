package river.balance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import river.upstream.Peer;
import river.upstream.PeerSelector;

/**
 * Weighted round robin: each peer appears in the rotation as many times as its weight, spread out
 * so that a heavy peer does not take its turns in a burst. Lock-free: one atomic counter.
 */
public final class RoundRobinSelector implements PeerSelector {
    private final Peer[] rotation;
    private final List<Peer> distinct;
    private final AtomicLong next = new AtomicLong();

    public RoundRobinSelector(List<Peer> peers) {
        this.distinct = List.copyOf(peers);
        this.rotation = interleave(peers);
    }

    /** Smooth weighted order (as nginx does it): repeatedly pick the peer with the most credit. */
    private static Peer[] interleave(List<Peer> peers) {
        int total = 0;
        for (Peer p : peers) {
            total += p.weight();
        }
        int[] credit = new int[peers.size()];
        List<Peer> order = new ArrayList<>(total);
        for (int n = 0; n < total; n++) {
            int best = 0;
            for (int i = 0; i < peers.size(); i++) {
                credit[i] += peers.get(i).weight();
                if (credit[i] > credit[best]) {
                    best = i;
                }
            }
            credit[best] -= total;
            order.add(peers.get(best));
        }
        return order.toArray(new Peer[0]);
    }

    @Override
    public Peer select(String path, InetSocketAddress client, Peer previous) {
        if (rotation.length == 0) {
            return null;
        }
        if (previous != null) {
            int i = distinct.indexOf(previous);
            return distinct.get((i + 1) % distinct.size());
        }
        return rotation[(int) Math.floorMod(next.getAndIncrement(), (long) rotation.length)];
    }

    @Override
    public int size() {
        return distinct.size();
    }
}
