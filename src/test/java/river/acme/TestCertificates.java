package river.acme;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.shredzone.acme4j.util.CSRBuilder;
import org.shredzone.acme4j.util.CertificateUtils;
import org.shredzone.acme4j.util.KeyPairUtils;

/** Certificates made in the test JVM (acme4j's test helpers, BouncyCastle): a root, and leaves it signs for given names and times. */
final class TestCertificates {
    static {
        Bouncy.register();
    }

    private static final KeyPair ROOT_KEY = KeyPairUtils.createKeyPair(2048);
    static final X509Certificate ROOT = CertificateUtils.createTestRootCertificate("CN=River ACME test root",
            Instant.parse("2020-01-01T00:00:00Z"), Instant.parse("2100-01-01T00:00:00Z"), ROOT_KEY);

    private TestCertificates() {}

    static StoredCertificate issue(List<String> names, Instant notBefore, Instant notAfter, Instant issuedAt) throws Exception {
        KeyPair key = AcmeClient.newKey(river.config.AcmeConfig.KeyType.ECDSA_P256);
        CSRBuilder csr = new CSRBuilder();
        csr.addDomains(names);
        csr.sign(key);
        X509Certificate leaf = CertificateUtils.createTestCertificate(csr.getCSR(), notBefore, notAfter, ROOT, ROOT_KEY.getPrivate());
        return new StoredCertificate(names, key.getPrivate(), List.of(leaf, ROOT), issuedAt);
    }
}
