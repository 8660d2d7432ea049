package river.balance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import river.upstream.Peer;

/** Peer selection with each algorithm over nine servers, alone and contended by two threads. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PeerSelectionBenchmark {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("192.0.2.7", 40000);
    private final UpstreamGroup roundRobin = group(UpstreamGroup.Selection.roundRobin());
    private final UpstreamGroup random = group(UpstreamGroup.Selection.random());
    private final UpstreamGroup fnv = group(UpstreamGroup.Selection.fnv(UpstreamGroup.KeyKind.URI_PATH));
    private final UpstreamGroup ketama = group(UpstreamGroup.Selection.ketama(UpstreamGroup.KeyKind.SOURCE_ADDR_AND_URI_PATH));

    private static UpstreamGroup group(UpstreamGroup.Selection selection) {
        List<Peer> peers = new ArrayList<>();
        for (int i = 1; i <= 9; i++) {
            peers.add(Peer.of("10.0.0." + i, 443, i % 3 + 1));
        }
        return new UpstreamGroup("bench", selection, peers, false);
    }

    @Benchmark
    public Peer weightedRoundRobin() {
        return roundRobin.select("/index.html", CLIENT, null);
    }

    @Benchmark
    @Threads(2)
    public Peer weightedRoundRobinTwoThreads() {
        return roundRobin.select("/index.html", CLIENT, null);
    }

    @Benchmark
    public Peer weightedRandom() {
        return random.select("/index.html", CLIENT, null);
    }

    @Benchmark
    public Peer fnvUriPath() {
        return fnv.select("/assets/app.3f9a1c.js", CLIENT, null);
    }

    @Benchmark
    public Peer ketamaSourceAndPath() {
        return ketama.select("/assets/app.3f9a1c.js", CLIENT, null);
    }
}
