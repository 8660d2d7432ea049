package river.modules.ratelimit;

import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import river.config.RateLimitRule;
import river.config.RequestGuards;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's rate limiting: a request must get a token from every rule that applies to it, or it is
 * answered 429 with Retry-After and nothing else is spent on it. Buckets are local (lock-free,
 * bounded by {@code max-buckets}), or shared in Redis when configured, with the local buckets as the
 * fallback while Redis is unreachable: a Redis outage never fails a request.
 */
public final class RateLimitModule implements ProxyModule, AutoCloseable {
    private final RateLimiter local;
    private final RedisBuckets redis;

    public RateLimitModule(List<RateLimitRule> rules, java.util.Optional<RequestGuards.RedisLimits> redis) {
        this(rules, redis, System::currentTimeMillis, Runnable::run);
    }

    /** @param clock milliseconds, controllable by tests; {@code maintenance} runs cache evictions */
    RateLimitModule(List<RateLimitRule> rules, java.util.Optional<RequestGuards.RedisLimits> redis, LongSupplier clock, Executor maintenance) {
        this.local = new RateLimiter(rules, clock, maintenance);
        this.ruleNames = new String[rules.size()];
        for (int i = 0; i < rules.size(); i++) {
            ruleNames[i] = "rate-limiting rule " + (i + 1) + " (" + kind(rules.get(i)) + ")";
        }
        this.redis = redis.map(r -> new RedisBuckets(r.url(), r.keyPrefix(), r.timeoutMs(), rules.stream().map(RateLimitRule::bucket).toList())).orElse(null);
    }

    /** The metrics label of each rule: its place in the configuration and its kind. */
    private final String[] ruleNames;

    private static String kind(RateLimitRule rule) {
        if (rule instanceof RateLimitRule.SourceIp) {
            return "source-ip";
        }
        return rule instanceof RateLimitRule.SpecificUri ? "specific-uri" : "any-matching-uri";
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        if (redis != null && redis.available()) {
            return shared(ctx, ctx.path(), ctx.client());
        }
        RateLimiter.Decision d = local.check(ctx.path(), ctx.client());
        if (d.allowed()) {
            return Verdict.CONTINUE_NOW;
        }
        ctx.rejectedBy(ruleNames[d.rule()]);
        return CompletableFuture.completedFuture(tooMany(d.retryAfterMs()));
    }

    /** Takes a token from each applicable rule's Redis bucket in turn, giving them back if one refuses. */
    private CompletionStage<Verdict> shared(RequestContext ctx, String path, InetSocketAddress client) {
        List<RateLimiter.Rule> rules = local.rules();
        List<Integer> applicable = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Object key = rules.get(i).key(path, client);
            if (key != null) {
                applicable.add(i);
                keys.add(key instanceof java.net.InetAddress ip ? ip.getHostAddress() : key.toString());
            }
        }
        if (applicable.isEmpty()) {
            return Verdict.CONTINUE_NOW;
        }
        CompletableFuture<Verdict> result = new CompletableFuture<>();
        take(ctx, applicable, keys, 0, new ArrayList<>(), result, path, client);
        return result;
    }

    private void take(RequestContext ctx, List<Integer> rules, List<String> keys, int i, List<AsyncBucketProxy> taken,
            CompletableFuture<Verdict> result, String path, InetSocketAddress client) {
        if (i == rules.size()) {
            result.complete(Verdict.CONTINUE);
            return;
        }
        AsyncBucketProxy bucket;
        try {
            bucket = redis.bucket(rules.get(i), keys.get(i));
        } catch (RuntimeException e) {
            fallBack(ctx, e, taken, result, path, client);
            return;
        }
        redis.bounded(bucket.tryConsumeAndReturnRemaining(1)).whenComplete((probe, error) -> {
            if (error != null) {
                fallBack(ctx, error, taken, result, path, client);
            } else if (!probe.isConsumed()) {
                taken.forEach(b -> b.addTokens(1));
                ctx.rejectedBy(ruleNames[rules.get(i)]);
                result.complete(tooMany(Math.max(1, probe.getNanosToWaitForRefill() / 1_000_000)));
            } else {
                taken.add(bucket);
                take(ctx, rules, keys, i + 1, taken, result, path, client);
            }
        });
    }

    private void fallBack(RequestContext ctx, Throwable error, List<AsyncBucketProxy> taken, CompletableFuture<Verdict> result, String path,
            InetSocketAddress client) {
        redis.warn("Redis did not answer a rate-limit check (" + error + "); using this River's local limits meanwhile");
        taken.forEach(b -> b.addTokens(1));
        RateLimiter.Decision d = local.check(path, client);
        if (!d.allowed()) {
            ctx.rejectedBy(ruleNames[d.rule()]);
        }
        result.complete(d.allowed() ? Verdict.CONTINUE : tooMany(d.retryAfterMs()));
    }

    private static Verdict tooMany(long retryAfterMs) {
        byte[] body = "429 Too Many Requests\n".getBytes(StandardCharsets.US_ASCII);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.RETRY_AFTER, Long.toString(Math.max(1, (retryAfterMs + 999) / 1000)));
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(body)));
    }

    /** Waits (bounded) until a configured Redis is connected or known to be unreachable. */
    public void awaitReady(long ms) {
        if (redis != null) {
            redis.awaitFirstAttempt(ms);
        }
    }

    @Override
    public void close() {
        if (redis != null) {
            redis.close();
        }
    }
}
