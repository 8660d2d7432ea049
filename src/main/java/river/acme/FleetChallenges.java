package river.acme;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.server.SharedAlpnChallenges.ChallengeCertificate;

/**
 * Fleet mode's challenges in Redis, so that the member the CA reaches (behind a load balancer, any of them) can
 * answer a challenge another member's order set up:
 *
 * <pre>
 * &lt;prefix&gt;:&lt;ca&gt;:http-01:&lt;token&gt;      the key authorization
 * &lt;prefix&gt;:&lt;ca&gt;:tls-alpn-01:&lt;name&gt;   the challenge certificate's PKCS#8 key, then the certificate (PEM)
 * </pre>
 *
 * The member that orders publishes each one before it asks the CA to validate it, with a TTL bounded by the order's
 * lifetime ({@link #ttl}), and withdraws it once the challenge is decided or the order abandoned (only if the key
 * still holds what it put there). Any member looks one up when a request or a ClientHello asks for a challenge it has
 * none of its own for.
 *
 * <p>Lookups run on event loops: asynchronous (Lettuce's async API, on a connection of this class's own, made at
 * open and again on demand, without blocking), at most {@link #MAX_LOOKUPS_IN_FLIGHT} at once, each answered within its timeout. A Redis
 * that refuses, does not answer in time or is asked too much answers "none" (the request goes on as if nothing were
 * published), with a warning at most once a minute; a command left on a connection that stopped answering is cancelled
 * by Lettuce after the store's command timeout, so none pile up. Nothing is cached: each lookup asks Redis, which is
 * the only copy that is always current.
 */
final class FleetChallenges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FleetChallenges.class);
    static final Duration LOOKUP_TIMEOUT = Duration.ofMillis(500);
    /** Publishing and withdrawing run on the ACME thread, which may wait as long as the store's other commands. */
    static final Duration WRITE_TIMEOUT = RedisAcmeStore.COMMAND_TIMEOUT;
    static final int MAX_LOOKUPS_IN_FLIGHT = 256;
    static final Duration WARN_EVERY = Duration.ofMinutes(1);
    /** A published challenge outlives the wait for its validation by this much, and no more. */
    static final Duration TTL_SLACK = Duration.ofMinutes(1);
    /** RFC 8555 §8.1: base64url; far longer than any CA's (Let's Encrypt's are 43 characters). */
    private static final int MAX_TOKEN = 128;
    private static final RedisCodec<String, String> CODEC = StringCodec.UTF8;
    private static final String BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
    private static final CompletableFuture<String> NOT_PUBLISHED = CompletableFuture.completedFuture(null);
    private static final String DELETE_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
            + "else return 0 end";

    /** A published challenge; closing withdraws it (never throws: the TTL removes what a failed withdrawal leaves). */
    interface Published extends AutoCloseable {
        Published NONE = () -> {};

        @Override
        void close();
    }

    private final RedisClient client;
    private final RedisURI uri;
    /** host:port, for messages (the URL may hold a password). */
    private final String where;
    private final String prefix;
    private final Duration lookupTimeout;
    private final int maxInFlight;
    private final LongSupplier nanoTime;
    private final AtomicReference<CompletableFuture<StatefulRedisConnection<String, String>>> connection = new AtomicReference<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Where a found TLS-ALPN-01 challenge is parsed, and the caller's TLS context built from it: not on Lettuce's I/O
     * thread, where a slow build (a cold one takes hundreds of ms) held up the replies to the lookups of the CA's
     * other, concurrent connections past their timeout, so that they were answered as none. One daemon thread; its
     * queue holds at most as many as there are lookups in flight, and one refused is answered as none.
     */
    private final ThreadPoolExecutor answers;
    private volatile boolean closed;
    private final Object warning = new Object();
    private boolean warned;
    private long lastWarning;
    private int unsaid;

    /**
     * @param client the store's Lettuce client (its threads and connect timeout), shut down by the store
     * @param prefix {@code <key-prefix>:<hash of the CA's directory URL>:}, as the store's other keys
     * @param nanoTime the clock of the warnings' once-a-minute limit
     */
    FleetChallenges(RedisClient client, RedisURI uri, String prefix, Duration lookupTimeout, int maxInFlight, LongSupplier nanoTime) {
        this.client = client;
        this.uri = uri;
        this.where = uri.getHost() + ":" + uri.getPort();
        this.prefix = prefix;
        this.lookupTimeout = lookupTimeout;
        this.maxInFlight = maxInFlight;
        this.nanoTime = nanoTime;
        this.answers = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxInFlight), r -> {
            Thread t = new Thread(r, "river-acme-challenge-answers");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * How long a published challenge lives: the wait for its validation ({@link AcmeClient#CHALLENGE_TIMEOUT}) and a
     * minute, cut short by the authorization's or the order's expiry (the CA validates nothing after), at least 1 s.
     */
    static Duration ttl(Instant now, Optional<Instant> authorizationExpires, Optional<Instant> orderExpires) {
        Duration ttl = AcmeClient.CHALLENGE_TIMEOUT.plus(TTL_SLACK);
        for (Optional<Instant> expires : List.of(authorizationExpires, orderExpires)) {
            if (expires.isPresent() && Duration.between(now, expires.get()).compareTo(ttl) < 0) {
                ttl = Duration.between(now, expires.get());
            }
        }
        return ttl.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : ttl;
    }

    // ---- the ordering member (the ACME thread) --------------------------------------------------------------

    Published publishHttp01(String token, String keyAuthorization, Duration ttl) {
        return publish(http01Key(token), keyAuthorization, ttl, "the http-01 challenge " + token);
    }

    Published publishTlsAlpn01(String name, PrivateKey key, X509Certificate certificate, Duration ttl) {
        String value;
        try {
            value = new String(AcmeStore.pem("PRIVATE KEY", key.getEncoded()), StandardCharsets.US_ASCII)
                    + new String(AcmeStore.pem("CERTIFICATE", certificate.getEncoded()), StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            LOG.warn("ACME: fleet mode: the tls-alpn-01 challenge for {} cannot be encoded ({}); only this River can answer it", name,
                    e.getMessage());
            return Published.NONE;
        }
        return publish(tlsAlpn01Key(name), value, ttl, "the tls-alpn-01 challenge for " + name);
    }

    /**
     * SET key value PX ttl, waited for (uninterruptibly, at most {@link #WRITE_TIMEOUT}). A failure is logged and the
     * order goes on: the CA may still reach this member, which answers from its own board.
     */
    private Published publish(String key, String value, Duration ttl, String what) {
        try {
            await(() -> connection().thenCompose(c -> c.async().set(key, value, SetArgs.Builder.px(ttl.toMillis()))));
        } catch (CompletionException e) {
            LOG.warn("ACME: fleet mode: cannot publish {} in Redis at {} ({}); only this River can answer it", what, where, reason(e));
            return Published.NONE;
        }
        LOG.info("ACME: fleet mode: {} published in Redis for {} s (any member can answer it)", what, ttl.toSeconds());
        return () -> {
            try {
                await(() -> connection().thenCompose(c -> c.async().<Long>eval(DELETE_IF_MINE, ScriptOutputType.INTEGER,
                        new String[] {key}, value)));
            } catch (CompletionException e) {
                LOG.info("ACME: fleet mode: cannot withdraw {} from Redis at {} ({}); it expires there", what, where, reason(e));
            }
        };
    }

    /** Waits for a write without being interrupted (an abandoned order withdraws its challenges while its thread is). */
    private static <T> T await(Supplier<CompletableFuture<T>> command) {
        return command.get().orTimeout(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    // ---- every member (event loops) -------------------------------------------------------------------------

    /** The key authorization another member published for {@code token}, or null. Never blocks, never fails. */
    CompletionStage<String> http01(String token) {
        if (!isToken(token)) {
            return NOT_PUBLISHED; // no CA sends it: not worth asking Redis
        }
        return lookup(http01Key(token)).thenApply(keyAuthorization -> {
            if (keyAuthorization != null) {
                LOG.info("ACME: fleet mode: answering the http-01 challenge {} that another member published", token);
            }
            return keyAuthorization;
        });
    }

    /** The TLS-ALPN-01 challenge another member published for {@code name}, or null. Never blocks, never fails. */
    CompletionStage<ChallengeCertificate> tlsAlpn01(String name) {
        return lookup(tlsAlpn01Key(name)).thenApplyAsync(value -> value == null ? null : parse(name, value), answers)
                .exceptionally(refused -> null);
    }

    private CompletionStage<String> lookup(String key) {
        if (closed) {
            return NOT_PUBLISHED;
        }
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            warn("more than " + maxInFlight + " challenge lookups in flight in Redis at " + where);
            return NOT_PUBLISHED;
        }
        return connection().thenCompose(c -> c.async().get(key)).orTimeout(lookupTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .handle((value, error) -> {
                    inFlight.decrementAndGet();
                    if (error == null) {
                        return value;
                    }
                    warn("cannot look up a challenge in Redis at " + where + " (" + reason(error) + ")");
                    return null;
                });
    }

    private static ChallengeCertificate parse(String name, String value) {
        LOG.info("ACME: fleet mode: answering the tls-alpn-01 challenge for {} that another member published", name);
        try {
            int certificate = value.indexOf(BEGIN_CERTIFICATE);
            if (certificate < 0) {
                throw new GeneralSecurityException("no certificate");
            }
            byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
            PrivateKey key = AcmeStore.parsePrivateKey(java.util.Arrays.copyOf(bytes, certificate));
            X509Certificate leaf = AcmeStore.parseChain(java.util.Arrays.copyOfRange(bytes, certificate, bytes.length)).get(0);
            return new ChallengeCertificate(key, leaf);
        } catch (GeneralSecurityException | RuntimeException e) {
            LOG.warn("ACME: fleet mode: the tls-alpn-01 challenge for {} in Redis does not parse ({}); not answering it", name,
                    e.getMessage());
            return null;
        }
    }

    /** RFC 8555's token alphabet (base64url), bounded: anything else is no CA's. */
    static boolean isToken(String token) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    String http01Key(String token) {
        return prefix + "http-01:" + token;
    }

    String tlsAlpn01Key(String name) {
        return prefix + "tls-alpn-01:" + name.toLowerCase(Locale.ROOT);
    }

    // ---- the connection -----------------------------------------------------------------------------------

    /**
     * Makes the connection now, without waiting for it: the store does at open, so that the first lookup, made when a
     * CA validates, does not spend its 500 ms connecting (which a loaded machine did not do in time).
     */
    CompletableFuture<StatefulRedisConnection<String, String>> connect() {
        return connection();
    }

    /**
     * The connection, or the attempt to make one, shared by every caller: a new attempt only once the last one failed
     * or its connection closed, so a Redis that does not answer gets one connection attempt at a time.
     */
    private CompletableFuture<StatefulRedisConnection<String, String>> connection() {
        CompletableFuture<StatefulRedisConnection<String, String>> current = connection.get();
        if (current != null && (!current.isDone() || !current.isCompletedExceptionally() && current.join().isOpen())) {
            return current;
        }
        CompletableFuture<StatefulRedisConnection<String, String>> next = new CompletableFuture<>();
        if (!connection.compareAndSet(current, next)) {
            CompletableFuture<StatefulRedisConnection<String, String>> other = connection.get();
            return other != null ? other : CompletableFuture.failedFuture(new IllegalStateException("connection dropped"));
        }
        if (current != null && !current.isCompletedExceptionally()) {
            // Dropped by Redis, but still registered in the client until closed: close it, or every
            // disconnect would keep one dead connection for the life of the process.
            current.join().closeAsync();
        }
        if (closed) {
            next.completeExceptionally(new IllegalStateException("closed"));
            return next;
        }
        client.connectAsync(CODEC, uri).whenComplete((c, error) -> {
            if (error != null) {
                next.completeExceptionally(error);
            } else if (closed || !next.complete(c)) {
                c.closeAsync();
            }
        });
        return next;
    }

    private void warn(String what) {
        long now = nanoTime.getAsLong();
        int before;
        synchronized (warning) {
            if (warned && now - lastWarning < WARN_EVERY.toNanos()) {
                unsaid++;
                return;
            }
            warned = true;
            lastWarning = now;
            before = unsaid;
            unsaid = 0;
        }
        LOG.warn("ACME: fleet mode: {}: answered as if no other member had published it{}", what,
                before == 0 ? "" : " (" + before + " more since the last warning)");
    }

    private static String reason(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof TimeoutException) {
            return "no answer in time";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    @Override
    public void close() {
        closed = true;
        answers.shutdownNow();
        CompletableFuture<StatefulRedisConnection<String, String>> current = connection.getAndSet(null);
        if (current != null) {
            current.thenAccept(StatefulRedisConnection::closeAsync);
        }
    }
}
