package river.acme;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fleet mode ({@code store-redis}): the account, the certificates and the order lock in Redis, shared by every River
 * using the same server, key prefix and CA, with the {@code store-dir} as this member's copy.
 *
 * <pre>
 * &lt;prefix&gt;:&lt;ca&gt;:account        hash: account.json                        (ca: a hash of the CA's directory URL)
 * &lt;prefix&gt;:&lt;ca&gt;:certs:&lt;id&gt;     hash: fullchain.pem, key.pem, meta.json   (id: as the store-dir's certs/&lt;id&gt;)
 * &lt;prefix&gt;:&lt;ca&gt;:lock           the holder's token, with a lease (SET NX PX), renewed while held
 * </pre>
 *
 * The values are the bytes of the store-dir's files: a read from Redis is mirrored into the store-dir (when it
 * differs) and parsed and checked there by {@link AcmeStore}, so that both hold the same thing in the same format.
 * A write goes to the store-dir, then to Redis by a script that writes only while the lock still holds this
 * member's token: a member whose lease ran out (paused, cut off) never overwrites what the new holder wrote.
 * Something the store-dir has and Redis does not (a store-dir from before fleet mode, a Redis that lost its data)
 * is copied to Redis if no other member's copy got there first.
 *
 * <p>When Redis cannot be reached, each operation fails within {@link #COMMAND_TIMEOUT} (a refused connection at
 * once): reads answer from the store-dir, with a warning; the lock (and so an order) fails, and the manager retries
 * it with its backoff while the certificates in service stay. Other members see a renewed certificate at their next
 * hourly look, which reads it (one HGETALL per certificate); there is no pub/sub subscription to lose.
 *
 * <p>The challenges of an order in flight are kept beside, under the same prefix, by {@link FleetChallenges}.
 */
public final class RedisAcmeStore implements CertificateStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisAcmeStore.class);
    static final Duration DEFAULT_LEASE = Duration.ofSeconds(60);
    static final Duration DEFAULT_POLL = Duration.ofSeconds(1);
    /** How long {@link #lock()} waits for another member's order before this attempt fails (and is retried later). */
    static final Duration DEFAULT_MAX_WAIT = Duration.ofMinutes(15);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
    /** The same bound as the store-dir's files. */
    private static final int MAX_VALUE_BYTES = 1 << 20;
    private static final List<String> CERT_FILES = List.of("fullchain.pem", "key.pem", "meta.json");
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Replaces the hash KEYS[2] by the fields and values ARGV[2..] while the lock KEYS[1] holds the token ARGV[1]
     * (1), or not at all (-1). With an empty token, writes only if KEYS[2] does not exist (1), else nothing (0).
     */
    static final String WRITE = """
            if ARGV[1] == '' then
              if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
            elseif redis.call('GET', KEYS[1]) ~= ARGV[1] then
              return -1
            end
            redis.call('DEL', KEYS[2])
            for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
            return 1
            """;
    private static final String RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
            + "else return 0 end";
    private static final String RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

    /** Waits between looks at a held lock; Thread::sleep but for tests. */
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final AcmeStore local;
    private final RedisClient client;
    private final RedisURI uri;
    /** host:port, for messages (the URL may hold a password). */
    private final String where;
    private final String keyPrefix;
    private final String prefix;
    private final String lockKey;
    private final Duration lease;
    private final Duration poll;
    private final Duration maxWait;
    private final Sleeper sleeper;
    private final String member;
    private final ScheduledExecutorService renewals;
    private final FleetChallenges challenges;
    private final Object connecting = new Object();
    private volatile StatefulRedisConnection<String, byte[]> connection;
    /** The lock this member holds now, which fences its writes. */
    private volatile RedisLock held;

    private RedisAcmeStore(String url, String keyPrefix, String directory, AcmeStore local, Duration lease, Duration poll, Duration maxWait,
            Sleeper sleeper) {
        this.local = local;
        this.uri = RedisURI.create(url);
        this.uri.setTimeout(COMMAND_TIMEOUT);
        this.where = uri.getHost() + ":" + uri.getPort();
        this.keyPrefix = keyPrefix;
        this.prefix = keyPrefix + ":" + hash(directory) + ":";
        this.lockKey = prefix + "lock";
        this.lease = lease;
        this.poll = poll;
        this.maxWait = maxWait;
        this.sleeper = sleeper;
        this.member = memberName();
        this.client = RedisClient.create();
        // No background reconnection: each operation uses the connection or makes one, and fails at once when it can't.
        this.client.setOptions(ClientOptions.builder().autoReconnect(false)
                .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).build()).build());
        this.renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "river-acme-lease");
            t.setDaemon(true);
            return t;
        });
        this.challenges = new FleetChallenges(client, uri, prefix, FleetChallenges.LOOKUP_TIMEOUT, FleetChallenges.MAX_LOOKUPS_IN_FLIGHT,
                System::nanoTime);
    }

    /**
     * Opens fleet mode over {@code local} (the store-dir, already open). An unreachable Redis is logged, not fatal: the
     * store-dir's certificates are served until it is back.
     */
    public static RedisAcmeStore open(String url, String keyPrefix, String directory, AcmeStore local) {
        return open(url, keyPrefix, directory, local, DEFAULT_LEASE, DEFAULT_POLL, DEFAULT_MAX_WAIT, Thread::sleep);
    }

    static RedisAcmeStore open(String url, String keyPrefix, String directory, AcmeStore local, Duration lease, Duration poll,
            Duration maxWait, Sleeper sleeper) {
        RedisAcmeStore store = new RedisAcmeStore(url, keyPrefix, directory, local, lease, poll, maxWait, sleeper);
        try {
            store.call(RedisCommands::ping);
            store.challenges.connect();
            LOG.info("ACME: fleet mode, account, certificates and lock in Redis at {} under {} (store-dir {} is this River's copy)",
                    store.where, store.prefix, local.dir());
        } catch (IOException e) {
            LOG.warn("ACME: fleet mode: {}; serving the certificates of store-dir {} until it is back", e.getMessage(), local.dir());
        }
        return store;
    }

    @Override
    public Path dir() {
        return local.dir();
    }

    /** Where this store's keys start: {@code <prefix>:<hash of the CA's directory URL>:}. */
    String keyPrefix() {
        return prefix;
    }

    /** The fleet's HTTP-01 and TLS-ALPN-01 challenges, under the same prefix, on a connection of their own. */
    FleetChallenges challenges() {
        return challenges;
    }

    // ---- the account ------------------------------------------------------------------------------------

    @Override
    public Optional<AcmeStore.StoredAccount> account(String directory) {
        String key = accountKey(directory);
        Path file = local.dir().resolve("account.json");
        try {
            byte[] shared = call(r -> r.hget(key, "account.json"));
            if (shared == null && local.account(directory).isPresent()) {
                if (write(key, "", Map.of("account.json", Files.readAllBytes(file))) == 1) {
                    LOG.info("ACME: the account in {} is now the fleet's (copied to Redis at {})", file, where);
                    return local.account(directory);
                }
                shared = call(r -> r.hget(key, "account.json")); // another member's got there first
            }
            if (shared != null) {
                mirror(file, shared, "rw-------");
            }
        } catch (IOException e) {
            LOG.warn("ACME: fleet mode: {}; using the account in {}", e.getMessage(), file);
        }
        return local.account(directory);
    }

    @Override
    public void saveAccount(String directory, KeyPair key, String location) throws IOException {
        local.saveAccount(directory, key, location);
        fencedWrite(accountKey(directory), Map.of("account.json", Files.readAllBytes(local.dir().resolve("account.json"))), "the account");
    }

    // ---- certificates -----------------------------------------------------------------------------------

    @Override
    public Optional<StoredCertificate> certificate(List<String> names) {
        String id = AcmeStore.id(names);
        Path certDir = local.dir().resolve("certs").resolve(id);
        try {
            Map<String, byte[]> shared = call(r -> r.hgetall(certKey(id)));
            if (shared.isEmpty()) {
                Optional<StoredCertificate> mine = local.certificate(names);
                if (mine.isPresent() && write(certKey(id), "", localFiles(certDir)) == 1) {
                    LOG.info("ACME: the certificate for {} in {} is now the fleet's (copied to Redis at {})", names, certDir, where);
                }
                return mine;
            }
            if (!shared.keySet().containsAll(CERT_FILES)) {
                LOG.warn("ACME: the certificate for {} in Redis at {} is partial (it has {}): it will be ordered again", names, where,
                        shared.keySet());
                return Optional.empty();
            }
            for (String name : CERT_FILES) {
                mirror(certDir.resolve(name), shared.get(name), name.equals("key.pem") ? "rw-------" : "rw-r-----");
            }
        } catch (IOException e) {
            LOG.warn("ACME: fleet mode: {}; using the certificate for {} in {}", e.getMessage(), names, certDir);
        }
        return local.certificate(names);
    }

    @Override
    public void save(StoredCertificate certificate) throws IOException {
        local.save(certificate);
        String id = AcmeStore.id(certificate.names());
        fencedWrite(certKey(id), localFiles(local.dir().resolve("certs").resolve(id)), "the certificate for " + certificate.names());
    }

    private static Map<String, byte[]> localFiles(Path certDir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : CERT_FILES) {
            files.put(name, Files.readAllBytes(certDir.resolve(name)));
        }
        return files;
    }

    /** Writes {@code file} with {@code content} unless it holds it already. */
    private void mirror(Path file, byte[] content, String permissions) throws IOException {
        if (content.length > MAX_VALUE_BYTES) {
            throw new IOException(file.getFileName() + " in Redis at " + where + " is larger than " + MAX_VALUE_BYTES + " bytes");
        }
        if (Files.isRegularFile(file) && Files.size(file) == content.length && Arrays.equals(Files.readAllBytes(file), content)) {
            return;
        }
        Files.createDirectories(file.getParent());
        AcmeStore.writeAtomically(file, content, permissions);
    }

    private String accountKey(String directory) {
        return keyPrefix + ":" + hash(directory) + ":account";
    }

    private String certKey(String id) {
        return prefix + "certs:" + id;
    }

    // ---- the lock -----------------------------------------------------------------------------------------

    /**
     * Takes the fleet's lock, waiting (looking again every poll interval, or sooner when the holder's lease ends) while
     * another member holds it, at most {@link #DEFAULT_MAX_WAIT}; fails at once when Redis cannot be reached.
     */
    @Override
    public RedisLock lock() throws IOException {
        long deadline = System.nanoTime() + maxWait.toNanos();
        boolean told = false;
        while (true) {
            Optional<RedisLock> lock = tryLock();
            if (lock.isPresent()) {
                return lock.get();
            }
            long remaining = call(r -> r.pttl(lockKey));
            if (!told) {
                told = true;
                byte[] holder = call(r -> r.get(lockKey));
                LOG.info("ACME: {} holds the fleet lock {} (an order is in flight); waiting", holder == null ? "another River"
                        : new String(holder, StandardCharsets.UTF_8), lockKey);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("the fleet lock " + lockKey + " in Redis at " + where + " is still held after " + maxWait);
            }
            try {
                sleeper.sleep(remaining > 0 ? Math.min(remaining, poll.toMillis()) : 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for the fleet lock");
            }
        }
    }

    /** The lock if no member holds it now; its lease is renewed until it is closed. */
    @Override
    public Optional<RedisLock> tryLock() throws IOException {
        byte[] token = (member + " " + HexFormat.of().formatHex(randomBytes())).getBytes(StandardCharsets.UTF_8);
        String ok = call(r -> r.set(lockKey, token, SetArgs.Builder.nx().px(lease.toMillis())));
        if (!"OK".equals(ok)) {
            return Optional.empty();
        }
        RedisLock lock = new RedisLock(token);
        long every = Math.max(1, lease.toMillis() / 3);
        lock.renewal = renewals.scheduleWithFixedDelay(lock::renew, every, every, TimeUnit.MILLISECONDS);
        held = lock;
        return Optional.of(lock);
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private void fencedWrite(String key, Map<String, byte[]> fields, String what) throws IOException {
        RedisLock lock = held;
        if (lock != null) {
            lock.write(key, fields, what);
            return;
        }
        try (RedisLock taken = lock()) {
            taken.write(key, fields, what);
        }
    }

    /** The script {@link #WRITE}: 1 written, 0 (no token) already there, -1 the lock is not (or no longer) {@code token}'s. */
    private long write(String key, String token, Map<String, byte[]> fields) throws IOException {
        return write(key, token.getBytes(StandardCharsets.UTF_8), fields);
    }

    private long write(String key, byte[] token, Map<String, byte[]> fields) throws IOException {
        byte[][] args = new byte[1 + 2 * fields.size()][];
        args[0] = token;
        int i = 1;
        for (Map.Entry<String, byte[]> field : fields.entrySet()) {
            args[i++] = field.getKey().getBytes(StandardCharsets.UTF_8);
            args[i++] = field.getValue();
        }
        Long result = call(r -> r.eval(WRITE, ScriptOutputType.INTEGER, new String[] {lockKey, key}, args));
        return result;
    }

    /** The held fleet lock: renewed every third of its lease; released (only if still its holder's) on close. */
    public final class RedisLock implements CertificateStore.Lock {
        private final byte[] token;
        private volatile boolean lost;
        private boolean closed;
        private volatile int renewals;
        private ScheduledFuture<?> renewal;

        private RedisLock(byte[] token) {
            this.token = token;
        }

        /** Whether the lease was found taken over (it ran out and the key expired, or another member holds it now). */
        public boolean lost() {
            return lost;
        }

        private synchronized void renew() {
            if (closed || lost) {
                return;
            }
            try {
                Long renewed = call(r -> r.eval(RENEW, ScriptOutputType.INTEGER, new String[] {lockKey}, token,
                        Long.toString(lease.toMillis()).getBytes(StandardCharsets.US_ASCII)));
                if (renewed == 0) {
                    lostLease();
                } else {
                    renewals++;
                }
            } catch (IOException e) {
                LOG.warn("ACME: cannot renew the fleet lock {} ({}); it lapses {} after its last renewal", lockKey, e.getMessage(), lease);
            }
        }

        private void lostLease() {
            lost = true;
            renewal.cancel(false);
            LOG.warn("ACME: this River lost the fleet lock {} (its lease ran out, another River may hold it): it writes nothing more "
                    + "under it", lockKey);
        }

        private synchronized void write(String key, Map<String, byte[]> fields, String what) throws IOException {
            if (!lost && RedisAcmeStore.this.write(key, token, fields) == 1) {
                return;
            }
            if (!lost) {
                lostLease();
            }
            throw new OrderFailure.LockLost("not writing " + what + " to Redis at " + where + ": this River no longer holds the fleet lock " + lockKey
                    + " (its lease of " + lease + " ran out); the holder's copy stands");
        }

        /** Stops renewing the lease without releasing it, as a paused, cut-off or dead member would (for tests). */
        void stopRenewing() {
            renewal.cancel(false);
        }

        /** How many times the lease was renewed. */
        int renewals() {
            return renewals;
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            renewal.cancel(false);
            if (held == this) {
                held = null;
            }
            if (!lost && (Long) call(r -> r.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {lockKey}, token)) == 0) {
                LOG.warn("ACME: the fleet lock {} had lapsed before this River released it", lockKey);
            }
        }
    }

    // ---- Redis --------------------------------------------------------------------------------------------

    private interface Call<T> {
        T on(RedisCommands<String, byte[]> redis);
    }

    /** One command, on the connection (made if there is none or it has closed); any failure an IOException saying where. */
    private <T> T call(Call<T> command) throws IOException {
        try {
            return command.on(connection().sync());
        } catch (RedisException e) {
            throw new IOException("Redis at " + where + " is unreachable (" + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage())
                    + ")", e);
        }
    }

    private StatefulRedisConnection<String, byte[]> connection() {
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null && c.isOpen()) {
            return c;
        }
        synchronized (connecting) {
            c = connection;
            if (c == null || !c.isOpen()) {
                if (c != null) {
                    // Dropped by Redis, but still registered in the client until closed.
                    c.closeAsync();
                }
                c = client.connect(CODEC, uri);
                connection = c;
            }
            return c;
        }
    }

    @Override
    public void close() {
        challenges.close();
        renewals.shutdownNow();
        RedisLock lock = held;
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException e) {
                LOG.debug("ACME: fleet lock not released at close: {}", e.getMessage());
            }
        }
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null && c.isOpen()) {
            c.close();
        }
        client.shutdown(0, 1, TimeUnit.SECONDS);
    }

    private static String hash(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)), 0, 5);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** host/pid, to say in the log who holds the lock. */
    private static String memberName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid();
    }
}
