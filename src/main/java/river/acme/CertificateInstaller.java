package river.acme;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Where the ACME client puts what it obtains: the live listeners' certificate choice by SNI
 * ({@code river.server.ManagedCertificates}, adapted by the wiring), so that river.acme needs nothing of the server.
 */
public interface CertificateInstaller {
    /** Installs or replaces the certificate for exactly these names; the next handshake for any of them uses it. */
    void install(List<String> names, PrivateKey key, List<X509Certificate> chain);

    /** TLS-ALPN-01 (RFC 8737): serve this challenge certificate to a handshake for {@code name} offering acme-tls/1. */
    void addAlpnChallenge(String name, PrivateKey key, X509Certificate challengeCertificate);

    void removeAlpnChallenge(String name);
}
