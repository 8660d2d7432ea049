package river.modules.ratelimit;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import river.config.RateLimitRule;

/**
 * River's rate-limiting model over local buckets: a request needs a token from every rule that
 * applies to it, and takes none if any refuses (tokens already taken are given back).
 */
final class RateLimiter {
    /** One configured rule and its buckets. */
    record Rule(RateLimitRule config, LocalLimits buckets) {
        /**
         * The bucket key of a request under this rule (the client's address, the path, or one shared
         * key), or null when the rule does not apply.
         */
        Object key(String path, InetSocketAddress client) {
            if (config instanceof RateLimitRule.SourceIp) {
                return client == null ? "unix" : client.getAddress();
            }
            if (config instanceof RateLimitRule.SpecificUri uri) {
                return uri.pattern().matcher(path).find() ? path : null;
            }
            RateLimitRule.AnyMatchingUri any = (RateLimitRule.AnyMatchingUri) config;
            return any.pattern().matcher(path).find() ? "" : null;
        }
    }

    /** The outcome: allowed, or refused with how long until a retry may succeed. */
    record Decision(boolean allowed, long retryAfterMs) {
        static final Decision ALLOW = new Decision(true, 0);
    }

    private final List<Rule> rules;
    private final LongSupplier clock;

    RateLimiter(List<RateLimitRule> configs, LongSupplier clock, Executor maintenance) {
        this.clock = clock;
        List<Rule> built = new ArrayList<>();
        for (RateLimitRule r : configs) {
            int max = r instanceof RateLimitRule.SourceIp ip ? ip.maxBuckets() : r instanceof RateLimitRule.SpecificUri u ? u.maxBuckets() : 0;
            built.add(new Rule(r, new LocalLimits(r.bucket(), max, clock, maintenance)));
        }
        this.rules = List.copyOf(built);
    }

    List<Rule> rules() {
        return rules;
    }

    Decision check(String path, InetSocketAddress client) {
        long now = clock.getAsLong();
        TokenBucket[] taken = null;
        int n = 0;
        for (Rule rule : rules) {
            Object key = rule.key(path, client);
            if (key == null) {
                continue;
            }
            TokenBucket bucket = rule.buckets().bucket(key);
            if (!bucket.tryTake(now)) {
                for (int i = 0; i < n; i++) {
                    taken[i].giveBack();
                }
                return new Decision(false, bucket.millisUntilRefill(now));
            }
            if (taken == null) {
                taken = new TokenBucket[rules.size()];
            }
            taken[n++] = bucket;
        }
        return Decision.ALLOW;
    }
}
