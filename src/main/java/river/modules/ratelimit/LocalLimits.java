package river.modules.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import river.config.RateLimitRule;

/**
 * The buckets of one rule in this process: one per key, at most {@code max-buckets} of them in a
 * Caffeine cache (least recently used evicted first: an evicted key starts again with a full bucket),
 * or a single bucket for {@code any-matching-uri}.
 */
final class LocalLimits {
    private final int capacity;
    private final int refillQty;
    private final int refillRateMs;
    private final LongSupplier clock;
    private final Cache<Object, TokenBucket> buckets;
    private final TokenBucket single;

    /** @param maxBuckets 0 for a rule with one shared bucket */
    LocalLimits(RateLimitRule.TokenBucketSpec spec, int maxBuckets, LongSupplier clock, Executor maintenance) {
        this.capacity = spec.tokensPerBucket();
        this.refillQty = spec.refillQty();
        this.refillRateMs = spec.refillRateMs();
        this.clock = clock;
        this.buckets = maxBuckets == 0 ? null : Caffeine.newBuilder().maximumSize(maxBuckets).executor(maintenance).build();
        this.single = maxBuckets == 0 ? newBucket() : null;
    }

    private TokenBucket newBucket() {
        return new TokenBucket(capacity, refillQty, refillRateMs, clock.getAsLong());
    }

    /** The bucket for a key (an address or a path; created full on first use). */
    TokenBucket bucket(Object key) {
        return single != null ? single : buckets.get(key, k -> newBucket());
    }

    /** Buckets held now (after pending evictions are applied). */
    long size() {
        if (buckets == null) {
            return 1;
        }
        buckets.cleanUp();
        return buckets.estimatedSize();
    }
}
