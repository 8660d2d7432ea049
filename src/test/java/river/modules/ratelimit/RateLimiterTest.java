package river.modules.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import river.config.RateLimitRule;
import river.config.RateLimitRule.TokenBucketSpec;

/** River's bucket arithmetic on a clock the test moves. */
class RateLimiterTest {
    final AtomicLong now = new AtomicLong(1_000_000);

    static InetSocketAddress ip(String a) {
        return new InetSocketAddress(a, 1234);
    }

    RateLimiter limiter(RateLimitRule... rules) {
        return new RateLimiter(List.of(rules), now::get, Runnable::run);
    }

    @Test
    void aBurstUpToTheBucketThenRefusalWithRetryAfter() {
        RateLimiter l = limiter(new RateLimitRule.SourceIp(100, new TokenBucketSpec(3, 1, 1000)));
        for (int i = 0; i < 3; i++) {
            assertThat(l.check("/", ip("192.0.2.1")).allowed()).isTrue();
        }
        RateLimiter.Decision refused = l.check("/", ip("192.0.2.1"));
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterMs()).isBetween(1L, 1000L);
        assertThat(l.check("/", ip("192.0.2.2")).allowed()).as("another address has its own bucket").isTrue();
    }

    @Test
    void refillAddsTheQuantityEachPeriodNeverAboveCapacity() {
        RateLimiter l = limiter(new RateLimitRule.SourceIp(100, new TokenBucketSpec(4, 2, 100)));
        for (int i = 0; i < 4; i++) {
            assertThat(l.check("/", ip("192.0.2.1")).allowed()).isTrue();
        }
        assertThat(l.check("/", ip("192.0.2.1")).allowed()).isFalse();
        now.addAndGet(99);
        assertThat(l.check("/", ip("192.0.2.1")).allowed()).as("not a full period yet").isFalse();
        now.addAndGet(1);
        assertThat(l.check("/", ip("192.0.2.1")).allowed()).isTrue();
        assertThat(l.check("/", ip("192.0.2.1")).allowed()).isTrue();
        assertThat(l.check("/", ip("192.0.2.1")).allowed()).as("two per period").isFalse();
        now.addAndGet(10_000);
        TokenBucket b = l.rules().get(0).buckets().bucket(ip("192.0.2.1").getAddress());
        assertThat(b.tokens(now.get())).as("capped at capacity").isEqualTo(4);
    }

    @Test
    void everyApplicableRuleMustGrantAndARefusalTakesNothing() {
        RateLimiter l = limiter(new RateLimitRule.SourceIp(100, new TokenBucketSpec(5, 1, 60_000)),
                new RateLimitRule.AnyMatchingUri(Pattern.compile("\\.mp4$"), new TokenBucketSpec(1, 1, 60_000)));
        assertThat(l.check("/a.mp4", ip("192.0.2.1")).allowed()).isTrue();
        assertThat(l.check("/b.mp4", ip("192.0.2.9")).allowed()).as("one shared bucket for every .mp4").isFalse();
        assertThat(l.rules().get(0).buckets().bucket(ip("192.0.2.9").getAddress()).tokens(now.get())).as("the source-ip token was given back").isEqualTo(5);
        assertThat(l.check("/index.html", ip("192.0.2.1")).allowed()).as("the mp4 rule does not apply here").isTrue();
        assertThat(l.rules().get(0).buckets().bucket(ip("192.0.2.1").getAddress()).tokens(now.get())).isEqualTo(3);
    }

    @Test
    void specificUriKeepsABucketPerPath() {
        RateLimiter l = limiter(new RateLimitRule.SpecificUri(Pattern.compile("^/static/"), 100, new TokenBucketSpec(1, 1, 60_000)));
        assertThat(l.check("/static/a.css", ip("192.0.2.1")).allowed()).isTrue();
        assertThat(l.check("/static/b.css", ip("192.0.2.1")).allowed()).isTrue();
        assertThat(l.check("/static/a.css", ip("192.0.2.2")).allowed()).isFalse();
        assertThat(l.check("/other", ip("192.0.2.1")).allowed()).isTrue();
    }

    @Test
    void bucketsBeyondMaxBucketsAreEvictedAndComeBackFull() {
        RateLimiter l = limiter(new RateLimitRule.SourceIp(2, new TokenBucketSpec(1, 1, 60_000)));
        for (int i = 1; i < 50; i++) {
            assertThat(l.check("/", ip("192.0.2." + i)).allowed()).isTrue();
            assertThat(l.check("/", ip("192.0.2." + i)).allowed()).as("empty right after").isFalse();
        }
        assertThat(l.rules().get(0).buckets().size()).as("memory is bounded by max-buckets").isLessThanOrEqualTo(2);
        int cameBackFull = 0;
        for (int i = 1; i < 50; i++) {
            cameBackFull += l.check("/", ip("192.0.2." + i)).allowed() ? 1 : 0;
        }
        assertThat(cameBackFull).as("forgotten keys start again with a full bucket").isGreaterThanOrEqualTo(45);
    }

    @Test
    void concurrentTakersNeverGetMoreThanTheBucketHolds() throws Exception {
        RateLimiter l = limiter(new RateLimitRule.AnyMatchingUri(Pattern.compile("/"), new TokenBucketSpec(1000, 1, 3_600_000)));
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 1000; i++) {
                    if (l.check("/x", ip("192.0.2.1")).allowed()) {
                        granted.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(granted.get()).isEqualTo(1000);
    }
}
