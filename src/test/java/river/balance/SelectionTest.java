package river.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import river.upstream.Peer;

/** The selection algorithms: Pingora's known answers, the nginx vectors, and distributions. */
class SelectionTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<Peer> peers(String... addresses) {
        List<Peer> out = new ArrayList<>();
        for (String a : addresses) {
            String[] parts = a.split("[:@]");
            out.add(Peer.of(parts[0], Integer.parseInt(parts[1]), parts.length > 2 ? Integer.parseInt(parts[2]) : 1));
        }
        return out;
    }

    private static String label(List<Peer> peers, int index) {
        return peers.get(index).label();
    }

    @Test
    void ketamaPointsMatchPingora() {
        CRC32 crc = new CRC32();
        crc.update(bytes("127.0.0.1\0" + "7777"));
        assertThat(crc.getValue()).isEqualTo(0xa7d7d7b0L);
        List<Peer> ring = peers("127.0.0.1:7777", "127.0.0.1:7778");
        Ketama ketama = new Ketama(ring);
        assertThat(label(ring, ketama.pick(bytes("/some/path"), i -> true))).isEqualTo("127.0.0.1:7778");
        assertThat(label(ring, ketama.pick(bytes("/some/longer/path"), i -> true))).isEqualTo("127.0.0.1:7777");
        assertThat(label(ring, ketama.pick(bytes("/sad/zaidoon"), i -> true))).isEqualTo("127.0.0.1:7778");
        assertThat(label(ring, ketama.pick(bytes("/g"), i -> true))).isEqualTo("127.0.0.1:7777");
    }

    @Test
    void ketamaFailoverWalksTheRingAsPingoraDoes() {
        List<Peer> ring = peers("127.0.0.1:7777", "127.0.0.1:7778", "127.0.0.1:7779");
        int[] walk = new Ketama(ring).walk(bytes("doghash"), 8);
        List<Integer> ports = new ArrayList<>();
        for (int i : walk) {
            ports.add(ring.get(i).address().getPort());
        }
        assertThat(ports).containsExactly(7778, 7779, 7779, 7777, 7777, 7778, 7778, 7779);
        // Failover skips servers already tried: 7778 refused, then 7779 is next.
        assertThat(label(ring, new Ketama(ring).pick(bytes("doghash"), i -> ring.get(i).address().getPort() != 7778)))
                .isEqualTo("127.0.0.1:7779");
    }

    @Test
    void ketamaReproducesEveryNginxAssignment() throws Exception {
        List<Peer> nine = new ArrayList<>();
        for (int i = 1; i <= 9; i++) {
            nine.add(Peer.of("10.0.0." + i, 443, 100));
        }
        Ketama ketama = new Ketama(nine);
        int lines = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("/vectors/ketama-nginx-upstream.csv"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                int comma = line.lastIndexOf(',');
                String uri = line.substring(0, comma);
                String expected = line.substring(comma + 1).strip();
                assertThat(label(nine, ketama.pick(bytes(uri), i -> true))).as(uri).isEqualTo(expected);
                lines++;
            }
        }
        assertThat(lines).isEqualTo(1001);
    }

    @Test
    void fnvMatchesPingorasWeightedSequence() {
        List<Peer> servers = peers("1.1.1.1:80@1", "1.0.0.1:80@10", "1.0.0.255:80@1");
        int[] picks = new Fnv(servers).sequence(bytes("test"), 11);
        List<String> ips = new ArrayList<>();
        for (int i : picks) {
            ips.add(servers.get(i).ipText());
        }
        assertThat(ips).containsExactly("1.0.0.1", "1.0.0.1", "1.0.0.1", "1.1.1.1", "1.0.0.255", "1.0.0.1", "1.0.0.1",
                "1.1.1.1", "1.0.0.1", "1.0.0.255", "1.1.1.1");
    }

    @Test
    void fnvOrdersIpv4BeforeIpv6ThenByAddressThenPort() {
        List<Peer> mixed = peers("10.0.0.2:80", "10.0.0.1:81", "10.0.0.1:80");
        mixed.add(0, Peer.of("::1", 80, 1));
        List<Peer> sorted = new ArrayList<>(mixed);
        sorted.sort(Fnv::compareAddresses);
        assertThat(sorted).extracting(Peer::label).containsExactly("10.0.0.1:80", "10.0.0.1:81", "10.0.0.2:80", "[::1]:80");
    }

    @Test
    void roundRobinIsExactAndWeighted() {
        UpstreamGroup group = new UpstreamGroup("t", UpstreamGroup.Selection.roundRobin(),
                peers("10.0.0.1:80@3", "10.0.0.2:80@1", "10.0.0.3:80@2"), false);
        Map<String, Integer> counts = new HashMap<>();
        List<String> first = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            String l = group.select("/", null, null).label();
            counts.merge(l, 1, Integer::sum);
            if (i < 6) {
                first.add(l);
            }
        }
        assertThat(counts).containsEntry("10.0.0.1:80", 300).containsEntry("10.0.0.2:80", 100).containsEntry("10.0.0.3:80", 200);
        // Smooth: the heavy server's turns are spread out, never three in a row.
        assertThat(first).containsExactly("10.0.0.1:80", "10.0.0.3:80", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80");
    }

    @Test
    void randomFollowsWeightsWithinStatisticalBounds() {
        UpstreamGroup group = new UpstreamGroup("t", UpstreamGroup.Selection.random(), peers("10.0.0.1:80@3", "10.0.0.2:80@1"), false);
        int n = 40_000;
        int heavy = 0;
        for (int i = 0; i < n; i++) {
            if (group.select("/", null, null).label().equals("10.0.0.1:80")) {
                heavy++;
            }
        }
        // Expected 30000, standard deviation sqrt(n p (1-p)) ≈ 87: six deviations either way.
        assertThat(heavy).isBetween(30_000 - 520, 30_000 + 520);
    }

    @Test
    void hashingIsStablePerKeyAndMovesFewKeysWhenAServerIsAdded() {
        for (UpstreamGroup.Selection selection : List.of(UpstreamGroup.Selection.ketama(UpstreamGroup.KeyKind.URI_PATH),
                UpstreamGroup.Selection.fnv(UpstreamGroup.KeyKind.URI_PATH))) {
            List<Peer> four = peers("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80");
            UpstreamGroup group = new UpstreamGroup("t", selection, four, false);
            Map<String, String> before = new HashMap<>();
            for (int i = 0; i < 4000; i++) {
                String key = "/object/" + i;
                String chosen = group.select(key, null, null).label();
                assertThat(group.select(key, null, null).label()).isEqualTo(chosen);
                before.put(key, chosen);
            }
            List<Peer> five = new ArrayList<>(four);
            five.add(Peer.of("10.0.0.5", 80, 1));
            group.update(five);
            int moved = 0;
            for (var e : before.entrySet()) {
                String now = group.select(e.getKey(), null, null).label();
                if (!now.equals(e.getValue())) {
                    moved++;
                    if (selection.algorithm().apply(four) instanceof Ketama) {
                        // Consistent hashing: a key only ever moves to the new server.
                        assertThat(now).isEqualTo("10.0.0.5:80");
                    }
                }
            }
            if (selection.algorithm().apply(four) instanceof Ketama) {
                // About a fifth of the keys move to the new server; none move between old ones.
                assertThat(moved).isBetween(500, 1200);
            } else {
                // Modulo hashing (Pingora's FNV) reshuffles most keys: stable per key, not consistent.
                assertThat(moved).isGreaterThan(0);
            }
        }
    }

    @Test
    void sourceAddressKeyPutsOneClientsPathOnOneServer() {
        UpstreamGroup group = new UpstreamGroup("t", UpstreamGroup.Selection.ketama(UpstreamGroup.KeyKind.SOURCE_ADDR_AND_URI_PATH),
                peers("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"), false);
        InetSocketAddress a1 = new InetSocketAddress("192.0.2.1", 1000);
        InetSocketAddress a2 = new InetSocketAddress("192.0.2.1", 2000);
        assertThat(group.select("/x", a1, null)).isEqualTo(group.select("/x", a2, null));
        // The key is "192.0.2.1/x": the same as the path-only hash of that text.
        UpstreamGroup byPath = new UpstreamGroup("t", UpstreamGroup.Selection.ketama(UpstreamGroup.KeyKind.URI_PATH),
                peers("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"), false);
        assertThat(group.select("/x", a1, null)).isEqualTo(byPath.select("192.0.2.1/x", null, null));
    }

    @Test
    void unhealthyAndPreviousPeersAreSkippedAndSrvTiersFallBack() {
        List<Peer> tiers = List.of(
                new Peer(new InetSocketAddress("10.0.0.1", 80), "10.0.0.1:80", 1, null, 0, Peer.PeerTimeouts.NONE),
                new Peer(new InetSocketAddress("10.0.0.2", 80), "10.0.0.2:80", 1, null, 10, Peer.PeerTimeouts.NONE));
        UpstreamGroup group = new UpstreamGroup("t", UpstreamGroup.Selection.roundRobin(), tiers, false);
        for (int i = 0; i < 10; i++) {
            assertThat(group.select("/", null, null).label()).isEqualTo("10.0.0.1:80");
        }
        // The preferred tier's only server failed this request: the next tier takes it.
        assertThat(group.select("/", null, List.of(tiers.get(0))).label()).isEqualTo("10.0.0.2:80");
        // Three failures in a row eject it; the lower-priority tier serves meanwhile.
        for (int i = 0; i < PeerHealth.PASSIVE_FAILURES; i++) {
            group.report(tiers.get(0), false);
        }
        assertThat(group.select("/", null, null).label()).isEqualTo("10.0.0.2:80");
        group.report(tiers.get(1), false);
        group.report(tiers.get(1), false);
        group.report(tiers.get(1), false);
        assertThat(group.select("/", null, null)).as("every server ejected").isNull();
    }

    @Test
    void activeChecksGateNewServersWhenConfigured() {
        UpstreamGroup group = new UpstreamGroup("t", UpstreamGroup.Selection.roundRobin(), peers("10.0.0.1:80"), true);
        assertThat(group.select("/", null, null)).as("not yet checked").isNull();
        PeerHealth h = group.health(group.peers().get(0));
        assertThat(h.recordCheck(true, 2, 1)).isTrue();
        assertThat(group.select("/", null, null)).isNotNull();
        assertThat(h.recordCheck(false, 2, 1)).isFalse();
        assertThat(h.recordCheck(false, 2, 1)).isTrue();
        assertThat(group.select("/", null, null)).isNull();
    }
}
