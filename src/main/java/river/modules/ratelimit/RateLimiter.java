package river.modules.ratelimit;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import river.config.RateLimitRule;

/**
 * River's rate-limiting model over local buckets: a request needs a token from every rule that
 * applies to it, and takes none if any refuses (tokens already taken are given back).
 */
final class RateLimiter {
    /** One rule, built once from its configuration: how it keys a request, and its buckets. */
    record Rule(Key keys, LocalLimits buckets) {
        Object key(String path, InetSocketAddress client) {
            return keys.of(path, client);
        }
    }

    /**
     * The bucket key of a request under a rule (the client's address, the path, or one shared key),
     * or null when the rule does not apply.
     */
    interface Key {
        Object of(String path, InetSocketAddress client);
    }

    /** The outcome: allowed, or refused with how long until a retry may succeed. */
    /** @param rule the index of the rule that refused, or -1 */
    record Decision(boolean allowed, long retryAfterMs, int rule) {
        static final Decision ALLOW = new Decision(true, 0, -1);
    }

    private final List<Rule> rules;
    private final LongSupplier clock;

    RateLimiter(List<RateLimitRule> configs, LongSupplier clock, Executor maintenance) {
        this.clock = clock;
        RateLimitRule.Visitor<Rule> build = new RateLimitRule.Visitor<>() {
            @Override
            public Rule sourceIp(RateLimitRule.SourceIp rule) {
                return new Rule((path, client) -> client == null ? "unix" : client.getAddress(), buckets(rule.bucket(), rule.maxBuckets()));
            }

            @Override
            public Rule specificUri(RateLimitRule.SpecificUri rule) {
                Pattern pattern = rule.pattern();
                return new Rule((path, client) -> pattern.matcher(path).find() ? path : null, buckets(rule.bucket(), rule.maxBuckets()));
            }

            @Override
            public Rule anyMatchingUri(RateLimitRule.AnyMatchingUri rule) {
                Pattern pattern = rule.pattern();
                return new Rule((path, client) -> pattern.matcher(path).find() ? "" : null, buckets(rule.bucket(), 0));
            }

            private LocalLimits buckets(RateLimitRule.TokenBucketSpec spec, int maxBuckets) {
                return new LocalLimits(spec, maxBuckets, clock, maintenance);
            }
        };
        List<Rule> built = new ArrayList<>();
        for (RateLimitRule r : configs) {
            built.add(r.accept(build));
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
        for (int r = 0; r < rules.size(); r++) {
            Rule rule = rules.get(r);
            Object key = rule.key(path, client);
            if (key == null) {
                continue;
            }
            TokenBucket bucket = rule.buckets().bucket(key);
            if (!bucket.tryTake(now)) {
                for (int i = 0; i < n; i++) {
                    taken[i].giveBack();
                }
                return new Decision(false, bucket.millisUntilRefill(now), r);
            }
            if (taken == null) {
                taken = new TokenBucket[rules.size()];
            }
            taken[n++] = bucket;
        }
        return Decision.ALLOW;
    }
}
