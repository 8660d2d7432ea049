package river.config;

import java.util.regex.Pattern;

/** A rate-limiting rule of River's model: which requests it applies to and its token bucket. */
public sealed interface RateLimitRule {

    TokenBucketSpec bucket();

    /** One bucket per client IP address, at most {@code maxBuckets} remembered. */
    record SourceIp(int maxBuckets, TokenBucketSpec bucket) implements RateLimitRule {}

    /** One bucket per distinct URI path matching the pattern, at most {@code maxBuckets} remembered. */
    record SpecificUri(Pattern pattern, int maxBuckets, TokenBucketSpec bucket) implements RateLimitRule {}

    /** One bucket shared by every URI path matching the pattern. */
    record AnyMatchingUri(Pattern pattern, TokenBucketSpec bucket) implements RateLimitRule {}

    /**
     * A token bucket: starts full with {@code tokensPerBucket}, gains {@code refillQty} tokens every
     * {@code refillRateMs} milliseconds, never above capacity.
     */
    record TokenBucketSpec(int tokensPerBucket, int refillQty, int refillRateMs) {}
}
