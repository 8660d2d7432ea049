package river.acme;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code store-dir}: the account and the certificates, as River 0.8 lays them out.
 *
 * <pre>
 * account.json                 the account's key pair and URL (mode 0600)
 * certs/&lt;id&gt;/fullchain.pem    the issued chain, leaf first
 * certs/&lt;id&gt;/key.pem          its private key, PKCS#8 (mode 0600)
 * certs/&lt;id&gt;/meta.json        when it was issued, and for which names
 * lock                         locked (fcntl, through FileChannel.lock) while an order is in flight
 * </pre>
 *
 * Every file is written to a temporary file beside it, forced, and renamed over the old one, so a
 * reader sees the old file or the new one. A certificate whose files do not parse, do not agree
 * (key not the certificate's, names not covered) or belong to other names is reported and treated as
 * absent, so it is ordered again. Methods block (files, the lock): call them from the ACME thread.
 */
public final class AcmeStore implements CertificateStore {
    private static final Logger LOG = LoggerFactory.getLogger(AcmeStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Locks are per process (fcntl): threads of one JVM also queue here, one lock object per store directory. */
    private static final Map<Path, Semaphore> IN_PROCESS = new ConcurrentHashMap<>();
    /** Store files are small; anything larger is not one of ours. */
    private static final long MAX_FILE_BYTES = 1 << 20;

    private final Path dir;
    /** The locks taken through this store and not yet released: {@link #close} releases them. */
    private final java.util.Set<Lock> held = ConcurrentHashMap.newKeySet();

    private AcmeStore(Path dir) {
        this.dir = dir;
    }

    /**
     * Opens (creating it 0700 if needed) the store; fails, with the reason, when River cannot write there,
     * so that it refuses to start rather than failing at renewal time.
     */
    public static AcmeStore open(Path dir) throws IOException {
        Bouncy.register();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Files.createDirectories(dir.resolve("certs"));
            Path probe = Files.createTempFile(dir, ".write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException("store-dir " + dir + " is not writable by user " + System.getProperty("user.name") + ": " + e, e);
        }
        return new AcmeStore(dir.toRealPath());
    }

    @Override
    public Path dir() {
        return dir;
    }

    // ---- the account ------------------------------------------------------------------------------------

    /** The account registered with {@code directory}: its key pair and URL, or empty (none, another CA's, or unreadable). */
    public Optional<StoredAccount> account(String directory) {
        Path file = dir.resolve("account.json");
        try {
            JsonNode json = JSON.readTree(read(file));
            if (!directory.equals(json.path("directory").asText())) {
                LOG.info("ACME account in {} is for {}, not {}: a new account will be created", file, json.path("directory").asText(), directory);
                return Optional.empty();
            }
            String algorithm = json.path("algorithm").asText();
            KeyFactory keys = KeyFactory.getInstance(algorithm);
            PrivateKey privateKey = keys.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(json.path("privateKey").asText())));
            PublicKey publicKey = keys.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(json.path("publicKey").asText())));
            if (!matches(privateKey, publicKey)) {
                throw new GeneralSecurityException("the private key is not the public key's");
            }
            String location = json.path("location").asText("");
            return Optional.of(new StoredAccount(new KeyPair(publicKey, privateKey), location.isEmpty() ? Optional.empty() : Optional.of(location)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            LOG.warn("ACME account file {} is unreadable ({}): a new account will be created", file, e.toString());
            return Optional.empty();
        }
    }

    public void saveAccount(String directory, KeyPair key, String location) throws IOException {
        ObjectNode json = JSON.createObjectNode();
        json.put("directory", directory);
        json.put("location", location);
        json.put("algorithm", key.getPrivate().getAlgorithm());
        json.put("privateKey", Base64.getEncoder().encodeToString(key.getPrivate().getEncoded()));
        json.put("publicKey", Base64.getEncoder().encodeToString(key.getPublic().getEncoded()));
        writeAtomically(dir.resolve("account.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json), "rw-------");
    }

    /** An account key pair and, once registered, its URL at the CA. */
    public record StoredAccount(KeyPair key, Optional<String> location) {}

    // ---- certificates -----------------------------------------------------------------------------------

    /** The directory name of a certificate for these names: the first name (sorted) made safe, and a hash of them all. */
    public static String id(List<String> names) {
        TreeSet<String> sorted = new TreeSet<>();
        names.forEach(n -> sorted.add(n.toLowerCase(Locale.ROOT)));
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(String.join(",", sorted).getBytes(StandardCharsets.UTF_8));
            return sorted.first().replace("*", "_") + "-" + HexFormat.of().formatHex(hash, 0, 5);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The stored certificate for exactly these names, if its files are whole and agree; empty otherwise (logged). */
    public Optional<StoredCertificate> certificate(List<String> names) {
        Path certDir = dir.resolve("certs").resolve(id(names));
        if (!Files.exists(certDir.resolve("fullchain.pem")) && !Files.exists(certDir.resolve("meta.json"))) {
            return Optional.empty();
        }
        try {
            JsonNode meta = JSON.readTree(read(certDir.resolve("meta.json")));
            List<String> stored = new ArrayList<>();
            meta.path("names").forEach(n -> stored.add(n.asText()));
            if (!new TreeSet<>(stored).equals(new TreeSet<>(lower(names)))) {
                throw new GeneralSecurityException("meta.json names " + stored + ", not " + names);
            }
            Instant issuedAt = Instant.parse(meta.path("issuedAt").asText());
            List<X509Certificate> chain = parseChain(read(certDir.resolve("fullchain.pem")));
            PrivateKey key = parsePrivateKey(read(certDir.resolve("key.pem")));
            StoredCertificate certificate = new StoredCertificate(List.copyOf(names), key, chain, issuedAt);
            String problem = certificate.problem();
            if (problem != null) {
                throw new GeneralSecurityException(problem);
            }
            return Optional.of(certificate);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("ACME certificate for {} in {} is corrupt or partial ({}): it will be ordered again", names, certDir, e.toString());
            return Optional.empty();
        }
    }

    /** Stores a certificate: key first, then chain, then meta.json, each replaced atomically. */
    public void save(StoredCertificate certificate) throws IOException {
        Path certDir = dir.resolve("certs").resolve(id(certificate.names()));
        Files.createDirectories(certDir);
        writeAtomically(certDir.resolve("key.pem"), pem("PRIVATE KEY", certificate.key().getEncoded()), "rw-------");
        StringBuilder chain = new StringBuilder();
        try {
            for (X509Certificate c : certificate.chain()) {
                chain.append(new String(pem("CERTIFICATE", c.getEncoded()), StandardCharsets.US_ASCII));
            }
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
        writeAtomically(certDir.resolve("fullchain.pem"), chain.toString().getBytes(StandardCharsets.US_ASCII), "rw-r-----");
        ObjectNode meta = JSON.createObjectNode();
        lower(certificate.names()).forEach(meta.putArray("names")::add);
        meta.put("issuedAt", certificate.issuedAt().toString());
        meta.put("notBefore", certificate.leaf().getNotBefore().toInstant().toString());
        meta.put("notAfter", certificate.leaf().getNotAfter().toInstant().toString());
        meta.put("serial", certificate.leaf().getSerialNumber().toString(16));
        writeAtomically(certDir.resolve("meta.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(meta), "rw-r-----");
    }

    // ---- the lock -----------------------------------------------------------------------------------------

    /**
     * Takes the store's exclusive lock, waiting for another process (or thread) that holds it: held only
     * while an order is in flight. Close it to release.
     */
    public Lock lock() throws IOException {
        Semaphore local = IN_PROCESS.computeIfAbsent(dir, d -> new Semaphore(1));
        try {
            local.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for the store lock");
        }
        try {
            FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                channel.lock();
                return held(new Lock(this, local, channel));
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            local.release();
            throw e;
        }
    }

    /** The lock if no one (no other process, no other thread here) holds it now; empty otherwise. */
    public Optional<Lock> tryLock() throws IOException {
        Semaphore local = IN_PROCESS.computeIfAbsent(dir, d -> new Semaphore(1));
        if (!local.tryAcquire()) {
            return Optional.empty();
        }
        try {
            FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                local.release();
                return Optional.empty();
            }
            return Optional.of(held(new Lock(this, local, channel)));
        } catch (IOException | RuntimeException e) {
            local.release();
            throw e;
        }
    }

    private Lock held(Lock lock) {
        held.add(lock);
        return lock;
    }

    /**
     * Releases every lock still held through this store, whatever thread holds it: an ACME client that stops (a reload
     * replaced it, or an upgrade handed the listeners over) lets the next one order at once, even if its thread is still
     * unwinding an abandoned order.
     */
    @Override
    public void close() {
        for (Lock lock : held) {
            try {
                lock.close();
            } catch (IOException e) {
                LOG.debug("ACME store lock in {} not released cleanly: {}", dir, e.toString());
            }
        }
    }

    /** The held store lock; closing it twice (its holder, then the store's close) releases it once. */
    public static final class Lock implements CertificateStore.Lock {
        private final AcmeStore store;
        private final Semaphore local;
        private final FileChannel channel;
        private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

        private Lock(AcmeStore store, Semaphore local, FileChannel channel) {
            this.store = store;
            this.local = local;
            this.channel = channel;
        }

        @Override
        public void close() throws IOException {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            store.held.remove(this);
            try {
                channel.close(); // releases the fcntl lock with it
            } finally {
                local.release();
            }
        }
    }

    // ---- files --------------------------------------------------------------------------------------------

    private static byte[] read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
        }
        return Files.readAllBytes(file);
    }

    static void writeAtomically(Path file, byte[] content, String permissions) throws IOException {
        Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    static byte[] pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n").getBytes(StandardCharsets.US_ASCII);
    }

    static List<X509Certificate> parseChain(byte[] pem) throws GeneralSecurityException {
        List<X509Certificate> chain = new ArrayList<>();
        for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
            chain.add((X509Certificate) c);
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException("no certificate in fullchain.pem");
        }
        return chain;
    }

    static PrivateKey parsePrivateKey(byte[] pem) throws GeneralSecurityException {
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException("key.pem holds no PKCS#8 private key");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        GeneralSecurityException last = null;
        for (String algorithm : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /** Whether {@code key} is the private half of {@code publicKey}: a signature made with one verifies with the other. */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        try {
            river.server.ManagedCertificates.checkKeyMatches(key, publicKey, List.of());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static List<String> lower(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }
}
