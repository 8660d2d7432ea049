package river.acme;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;
import river.config.AcmeConfig;

/**
 * Where the ACME account and the certificates are kept: the {@code store-dir} ({@link AcmeStore}) or, in fleet mode,
 * Redis with the store-dir as this member's copy ({@link RedisAcmeStore}). Methods block: call them from the ACME
 * thread.
 */
public interface CertificateStore extends AutoCloseable {
    /** The store the configuration names: Redis when {@code store-redis} is set (with store-dir as its local copy), else store-dir. */
    static CertificateStore open(AcmeConfig config) throws IOException {
        AcmeStore local = AcmeStore.open(config.storeDir());
        if (config.storeRedis().isEmpty()) {
            return local;
        }
        AcmeConfig.RedisStore redis = config.storeRedis().get();
        return RedisAcmeStore.open(redis.url(), redis.keyPrefix(), config.directory().toString(), local);
    }

    /** The store-dir (in fleet mode, this member's local copy). */
    Path dir();

    /** The account registered with {@code directory}: its key pair and URL, or empty (none, another CA's, or unreadable). */
    Optional<AcmeStore.StoredAccount> account(String directory);

    void saveAccount(String directory, KeyPair key, String location) throws IOException;

    /** The stored certificate for exactly these names, if whole and consistent; empty otherwise (logged). */
    Optional<StoredCertificate> certificate(List<String> names);

    void save(StoredCertificate certificate) throws IOException;

    /** Takes the store's exclusive lock, waiting while another process holds it: held only while an order is in flight. */
    Lock lock() throws IOException;

    /** The lock if no one holds it now; empty otherwise. */
    Optional<? extends Lock> tryLock() throws IOException;

    @Override
    default void close() {}

    /** A held store lock; closing releases it. */
    interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }
}
