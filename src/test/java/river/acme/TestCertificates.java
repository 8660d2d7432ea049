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

    /** A leaf as a public CA issues it (RFC 5280): with the Authority Key Identifier that ARI names it by, and this serial. */
    static StoredCertificate issueWithAki(List<String> names, Instant notBefore, Instant notAfter, java.math.BigInteger serial) throws Exception {
        KeyPair key = AcmeClient.newKey(river.config.AcmeConfig.KeyType.ECDSA_P256);
        return new StoredCertificate(names, key.getPrivate(), List.of(leaf(names, key.getPublic(), notBefore, notAfter, serial), ROOT), notBefore);
    }

    /** The leaf the test root signs for the names and the key of a CSR (what River sends in its finalize request). */
    static X509Certificate issueFor(org.bouncycastle.pkcs.PKCS10CertificationRequest csr, List<String> names, Instant notBefore, Instant notAfter)
            throws Exception {
        java.security.PublicKey key = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(csr).getPublicKey();
        return leaf(names, key, notBefore, notAfter, java.math.BigInteger.valueOf(notBefore.toEpochMilli()));
    }

    private static X509Certificate leaf(List<String> names, java.security.PublicKey key, Instant notBefore, Instant notAfter,
            java.math.BigInteger serial) throws Exception {
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(ROOT, serial, java.util.Date.from(notBefore),
                java.util.Date.from(notAfter), new javax.security.auth.x500.X500Principal("CN=" + names.get(0)), key);
        builder.addExtension(org.bouncycastle.asn1.x509.Extension.authorityKeyIdentifier, false,
                new org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ROOT));
        builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false, new org.bouncycastle.asn1.x509.GeneralNames(
                names.stream().map(n -> new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName, n))
                        .toArray(org.bouncycastle.asn1.x509.GeneralName[]::new)));
        var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA").build(ROOT_KEY.getPrivate());
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }
}
