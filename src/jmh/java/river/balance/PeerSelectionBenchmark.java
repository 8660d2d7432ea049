package river.balance;

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

/** Peer selection, alone and contended by two threads (one atomic counter is all it shares). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PeerSelectionBenchmark {
    private final RoundRobinSelector weighted = new RoundRobinSelector(List.of(
            Peer.of("10.0.0.1", 80, 3), Peer.of("10.0.0.2", 80, 1), Peer.of("10.0.0.3", 80, 2)));

    @Benchmark
    public Peer weightedRoundRobin() {
        return weighted.select("/index.html", null, null);
    }

    @Benchmark
    @Threads(2)
    public Peer weightedRoundRobinTwoThreads() {
        return weighted.select("/index.html", null, null);
    }
}
