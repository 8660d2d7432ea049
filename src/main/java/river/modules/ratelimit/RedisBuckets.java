package river.modules.ratelimit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.RateLimitRule;

/**
 * Rate-limit buckets kept in Redis (Bucket4j over Lettuce), so that every River using the same Redis
 * and key prefix shares one limit. Asynchronous: nothing blocks an event loop. While Redis cannot be
 * reached the caller falls back to its local buckets; the connection is retried in the background.
 */
final class RedisBuckets implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisBuckets.class);
    private static final long RECONNECT_EVERY_MS = 2_000;

    private final RedisClient client;
    private final RedisURI uri;
    /** Per rule, by index: the start of its bucket keys, and its bucket's configuration, both built once. */
    private final String[] keyPrefixes;
    private final BucketConfiguration[] configurations;
    private volatile AsyncProxyManager<String> buckets;
    private volatile StatefulRedisConnection<String, byte[]> connection;
    private volatile boolean closed;
    private volatile long lastWarningMs;
    private final java.util.concurrent.ScheduledExecutorService reconnect;
    /** Completed when the first connection attempt has ended, whatever its outcome. */
    private final CompletableFuture<Void> firstAttempt = new CompletableFuture<>();

    /** How long one bucket operation may take before the request falls back to local limits. */
    private final long operationTimeoutMs;

    /** @param specs each rule's bucket, by rule index */
    RedisBuckets(String url, String prefix, int operationTimeoutMs, java.util.List<RateLimitRule.TokenBucketSpec> specs) {
        this.operationTimeoutMs = operationTimeoutMs;
        this.uri = RedisURI.create(url);
        this.uri.setTimeout(Duration.ofMillis(operationTimeoutMs));
        this.keyPrefixes = new String[specs.size()];
        this.configurations = new BucketConfiguration[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            keyPrefixes[i] = prefix + ":" + i + ":";
            configurations[i] = configuration(specs.get(i));
        }
        this.client = RedisClient.create();
        this.client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        this.reconnect = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "river-redis-connect");
            t.setDaemon(true);
            return t;
        });
        connect();
    }

    private void connect() {
        if (closed) {
            return;
        }
        client.connectAsync(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE), uri).whenComplete((c, error) -> {
            firstAttempt.complete(null);
            if (error != null) {
                warn("cannot connect to Redis at " + uri.getHost() + ":" + uri.getPort() + " (" + error.getMessage()
                        + "); rate limits are local to this River until it can");
                reconnect.schedule(this::connect, RECONNECT_EVERY_MS, TimeUnit.MILLISECONDS);
                return;
            }
            connection = c;
            buckets = Bucket4jLettuce.casBasedBuilder(c)
                    .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                    .build()
                    .asAsync();
            LOG.info("rate limits are shared through Redis at {}:{}", uri.getHost(), uri.getPort());
            firstAttempt.complete(null);
        });
    }

    /** Waits up to {@code ms} for the first connection attempt (at start, so limits are shared from the first request). */
    void awaitFirstAttempt(long ms) {
        try {
            firstAttempt.get(ms, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.debug("Redis connection still pending at start");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether Redis is usable now. */
    boolean available() {
        StatefulRedisConnection<String, byte[]> c = connection;
        return buckets != null && c != null && c.isOpen();
    }

    private static BucketConfiguration configuration(RateLimitRule.TokenBucketSpec spec) {
        return BucketConfiguration.builder()
                .addLimit(Bandwidth.builder().capacity(spec.tokensPerBucket())
                        .refillIntervally(spec.refillQty(), Duration.ofMillis(spec.refillRateMs()))
                        .initialTokens(spec.tokensPerBucket()).build())
                .build();
    }

    /** The shared bucket of a rule (by index) and key. */
    AsyncBucketProxy bucket(int rule, String key) {
        return buckets.builder().build(keyPrefixes[rule] + key, configurations[rule]);
    }

    /** Logs a fallback at most every ten seconds. */
    void warn(String message) {
        long now = System.currentTimeMillis();
        if (now - lastWarningMs > 10_000) {
            lastWarningMs = now;
            LOG.warn(message);
        }
    }

    <T> CompletableFuture<T> bounded(CompletableFuture<T> f) {
        return f.orTimeout(operationTimeoutMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        closed = true;
        reconnect.shutdownNow();
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null) {
            c.closeAsync();
        }
        client.shutdownAsync(0, 1, TimeUnit.SECONDS);
    }
}
