package river.balance;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.upstream.Peer;
import river.upstream.PeerSelector;

/**
 * The servers of one connectors block, the algorithm that chooses among them, and their health.
 * The server set is an immutable snapshot swapped atomically when discovery changes it, so selection
 * takes no lock. Servers are grouped in SRV priority tiers: a request goes to the most preferred
 * tier that has a usable server.
 */
public final class UpstreamGroup implements PeerSelector {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamGroup.class);

    /** How a selection is built over a list of peers, and what it hashes. */
    public record Selection(Function<List<Peer>, Algorithm> algorithm, KeyKind key) {
        public static Selection roundRobin() {
            return new Selection(RoundRobin::new, KeyKind.NONE);
        }

        public static Selection random() {
            return new Selection(RandomPick::new, KeyKind.NONE);
        }

        public static Selection fnv(KeyKind key) {
            return new Selection(Fnv::new, key);
        }

        public static Selection ketama(KeyKind key) {
            return new Selection(Ketama::new, key);
        }
    }

    /**
     * What hashing selections hash. {@code SOURCE_ADDR_AND_URI_PATH} is the UTF-8 bytes of the
     * client's IP as text (dotted quad, or RFC 5952 IPv6 without brackets) immediately followed by
     * the path; no port, so a client's new connections hash alike.
     */
    public enum KeyKind {
        NONE,
        URI_PATH,
        SOURCE_ADDR_AND_URI_PATH
    }

    private final String name;
    private final Selection selection;
    private final boolean checked;
    private final AtomicReference<Snapshot> current;

    /**
     * @param name for logs ("service" or "service /route")
     * @param checked whether active health checks run: new servers then wait for their first pass
     */
    public UpstreamGroup(String name, Selection selection, List<Peer> peers, boolean checked) {
        this.name = name;
        this.selection = selection;
        this.checked = checked;
        this.current = new AtomicReference<>(build(peers, Map.of()));
    }

    /**
     * One tier of servers of equal SRV priority; {@code usable} answers for a member index, built once
     * per server set so that a first attempt allocates nothing.
     */
    private record Tier(int[] members, Algorithm algorithm, IntPredicate usable) {
        static Tier of(int[] members, Algorithm algorithm, PeerHealth[] health) {
            return new Tier(members, algorithm, i -> health[members[i]].usable());
        }
    }

    /** The servers at one moment, their health records and the tiers' algorithms. */
    private record Snapshot(Peer[] peers, PeerHealth[] health, Tier[] tiers, Map<String, Integer> indexByLabel) {}

    private Snapshot build(List<Peer> peers, Map<String, PeerHealth> previous) {
        Peer[] all = peers.toArray(new Peer[0]);
        PeerHealth[] health = new PeerHealth[all.length];
        Map<String, Integer> index = new HashMap<>();
        TreeMap<Integer, List<Integer>> byPriority = new TreeMap<>();
        for (int i = 0; i < all.length; i++) {
            PeerHealth h = previous.get(all[i].label());
            health[i] = h != null ? h : new PeerHealth(!checked);
            index.put(all[i].label(), i);
            byPriority.computeIfAbsent(all[i].priority(), p -> new ArrayList<>()).add(i);
        }
        List<Tier> tiers = new ArrayList<>();
        for (List<Integer> members : byPriority.values()) {
            List<Peer> tierPeers = new ArrayList<>();
            members.forEach(i -> tierPeers.add(all[i]));
            tiers.add(Tier.of(members.stream().mapToInt(Integer::intValue).toArray(), selection.algorithm().apply(tierPeers), health));
        }
        return new Snapshot(all, health, tiers.toArray(new Tier[0]), Map.copyOf(index));
    }

    public String name() {
        return name;
    }

    /** Replaces the server set; servers that stay keep their health record. Returns false if unchanged. */
    public boolean update(List<Peer> peers) {
        Snapshot old = current.get();
        if (List.of(old.peers).equals(peers)) {
            return false;
        }
        Map<String, PeerHealth> previous = new HashMap<>();
        for (int i = 0; i < old.peers.length; i++) {
            previous.put(old.peers[i].label(), old.health[i]);
        }
        current.set(build(peers, previous));
        return true;
    }

    /** The servers now in the set, in order. */
    public List<Peer> peers() {
        return List.of(current.get().peers);
    }

    /** The health record of a server in the set, or null. */
    public PeerHealth health(Peer peer) {
        Snapshot s = current.get();
        Integer i = s.indexByLabel.get(peer.label());
        return i == null ? null : s.health[i];
    }

    @Override
    public Peer select(String path, InetSocketAddress client, java.util.Collection<Peer> tried) {
        Snapshot s = current.get();
        if (s.peers.length == 0) {
            return null;
        }
        java.util.BitSet avoid = null;
        if (tried != null && !tried.isEmpty()) {
            avoid = new java.util.BitSet(s.peers.length);
            for (Peer p : tried) {
                Integer i = s.indexByLabel.get(p.label());
                if (i != null) {
                    avoid.set(i);
                }
            }
        }
        java.util.BitSet skip = avoid;
        byte[] key = null;
        for (Tier tier : s.tiers) {
            if (key == null && tier.algorithm.hashes()) {
                key = key(path, client);
            }
            int[] members = tier.members;
            IntPredicate usable = skip == null ? tier.usable : i -> !skip.get(members[i]) && tier.usable.test(i);
            int picked = tier.algorithm.pick(key, usable);
            if (picked >= 0) {
                return s.peers[members[picked]];
            }
        }
        return null;
    }

    private byte[] key(String path, InetSocketAddress client) {
        if (selection.key() == KeyKind.SOURCE_ADDR_AND_URI_PATH && client != null) {
            return (io.netty.util.NetUtil.toAddressString(client.getAddress()) + path).getBytes(StandardCharsets.UTF_8);
        }
        return path.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public int size() {
        return current.get().peers.length;
    }

    @Override
    public void report(Peer peer, boolean success) {
        PeerHealth h = health(peer);
        if (h != null && h.recordRequest(success, System.nanoTime())) {
            LOG.warn("{}: {} failed {} requests in a row; no new requests for a while", name, peer, PeerHealth.PASSIVE_FAILURES);
        }
    }
}
