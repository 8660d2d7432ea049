package river.modules.ratelimit;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
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
import river.config.RateLimitRule;
import river.config.RateLimitRule.TokenBucketSpec;

/**
 * The rate-limit check of a request against River's example rules (source-ip, specific-uri,
 * any-matching-uri), with buckets that never run dry, alone and with two threads on the same buckets.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RateLimitBenchmark {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("192.0.2.7", 40000);
    private final RateLimiter limiter = new RateLimiter(List.of(
            new RateLimitRule.SourceIp(4000, new TokenBucketSpec(1_000_000_000, 1_000_000_000, 1)),
            new RateLimitRule.SpecificUri(Pattern.compile("static/.*"), 2000, new TokenBucketSpec(1_000_000_000, 1_000_000_000, 1)),
            new RateLimitRule.AnyMatchingUri(Pattern.compile(".*\\.mp4"), new TokenBucketSpec(1_000_000_000, 1_000_000_000, 1))),
            System::currentTimeMillis, Runnable::run);

    @Benchmark
    public RateLimiter.Decision threeRulesTwoApply() {
        return limiter.check("/static/app.js", CLIENT);
    }

    @Benchmark
    @Threads(2)
    public RateLimiter.Decision threeRulesTwoApplyTwoThreads() {
        return limiter.check("/static/app.js", CLIENT);
    }
}
