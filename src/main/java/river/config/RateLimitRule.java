package river.config;

import java.util.regex.Pattern;

/** A rate-limiting rule of River's model: which requests it applies to and its token bucket. */
public sealed interface RateLimitRule {
    /** Hands this to the visitor's method for its kind: adding a kind fails to compile where it is not handled. */
    <R> R accept(Visitor<R> visitor);

    /** One method per kind. */
    interface Visitor<R> {
        R sourceIp(SourceIp rule);

        R specificUri(SpecificUri rule);

        R anyMatchingUri(AnyMatchingUri rule);
    }

    TokenBucketSpec bucket();

    /** One bucket per client IP address, at most {@code maxBuckets} remembered. */
    record SourceIp(int maxBuckets, TokenBucketSpec bucket) implements RateLimitRule {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.sourceIp(this);
        }
    }

    /** One bucket per distinct URI path matching the pattern, at most {@code maxBuckets} remembered. */
    record SpecificUri(Pattern pattern, int maxBuckets, TokenBucketSpec bucket) implements RateLimitRule {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.specificUri(this);
        }
    }

    /** One bucket shared by every URI path matching the pattern. */
    record AnyMatchingUri(Pattern pattern, TokenBucketSpec bucket) implements RateLimitRule {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.anyMatchingUri(this);
        }
    }

    /**
     * A token bucket: starts full with {@code tokensPerBucket}, gains {@code refillQty} tokens every
     * {@code refillRateMs} milliseconds, never above capacity.
     */
    record TokenBucketSpec(int tokensPerBucket, int refillQty, int refillRateMs) {}
}
