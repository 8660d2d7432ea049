package river.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TLS termination on a listener.
 *
 * @param certPath the listener's own (static) certificate, the default when the name the client asks
 *     for matches nothing else; empty (with {@code keyPath}) on a listener whose certificates all come
 *     from ACME ({@code acme-domains}) until one is installed
 * @param keyPath the static certificate's key: present exactly when {@code certPath} is
 * @param minVersion the lowest protocol version accepted, "1.2" or "1.3"
 * @param ciphers the allowed TLS 1.2 cipher suites (IANA names); empty means River's AEAD defaults
 * @param sni further certificates chosen by the name the client asks for (SNI); the listener's own
 *     certificate is the default when the name is absent or matches none
 * @param ocspResponsePath a DER OCSP response for the default certificate, stapled to every handshake
 *     that asks for one (the file is read again when it changes)
 */
public record TlsSettings(Optional<Path> certPath, Optional<Path> keyPath, String minVersion, List<String> ciphers, List<SniCertificate> sni,
        Optional<Path> ocspResponsePath) {
    public static final String DEFAULT_MIN_VERSION = "1.2";

    /**
     * The TLS 1.2 suites River accepts in {@code tls-ciphers}, and uses by default, in preference
     * order: forward-secret AEAD suites only.
     */
    public static final List<String> TLS12_CIPHERS = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** OCSP responses are a few KiB; a larger file is not one, and is never read whole. */
    public static final int MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

    public TlsSettings {
        if (certPath.isPresent() != keyPath.isPresent()) {
            throw new IllegalArgumentException("cert-path and key-path go together");
        }
        if (certPath.isEmpty() && ocspResponsePath.isPresent()) {
            throw new IllegalArgumentException("an OCSP response needs the static certificate it is for");
        }
        ciphers = List.copyOf(ciphers);
        sni = List.copyOf(sni);
    }

    /** A listener with a static default certificate. */
    public TlsSettings(Path certPath, Path keyPath, String minVersion, List<String> ciphers, List<SniCertificate> sni,
            Optional<Path> ocspResponsePath) {
        this(Optional.of(certPath), Optional.of(keyPath), minVersion, ciphers, sni, ocspResponsePath);
    }

    /** Whether the listener has its own (static) default certificate. */
    public boolean hasStaticCertificate() {
        return certPath.isPresent();
    }

    /**
     * A certificate served to clients asking for {@code serverName}: an exact name, or
     * {@code *.example.com} for any single label below example.com.
     */
    public record SniCertificate(String serverName, Path certPath, Path keyPath, Optional<Path> ocspResponsePath) {}

    /**
     * Reads an OCSP response file, failing with the reason unless it holds one whole DER SEQUENCE
     * (what {@code openssl ocsp -respout} writes): that also catches a PEM file and a file caught
     * half-written while it is being replaced. River does not parse the response further; the
     * client checks it.
     */
    public static byte[] readOcspResponse(Path path) throws IOException {
        if (Files.size(path) > MAX_OCSP_RESPONSE_BYTES) {
            throw new IOException("larger than " + MAX_OCSP_RESPONSE_BYTES + " bytes");
        }
        byte[] der = Files.readAllBytes(path);
        String problem = ocspResponseProblem(der);
        if (problem != null) {
            throw new IOException(problem);
        }
        return der;
    }

    private static String ocspResponseProblem(byte[] der) {
        if (der.length < 2 || der[0] != 0x30) {
            return "not a DER-encoded OCSP response (openssl ocsp -respout writes one)";
        }
        int header = 2;
        long length = der[1] & 0xff;
        if (length >= 0x80) {
            int octets = (int) length & 0x7f;
            if (octets == 0 || octets > 3 || der.length < 2 + octets) {
                return "not a DER-encoded OCSP response (bad length)";
            }
            length = 0;
            for (int i = 0; i < octets; i++) {
                length = (length << 8) | (der[2 + i] & 0xff);
            }
            header += octets;
        }
        if (header + length != der.length) {
            return "not a whole DER-encoded OCSP response (" + der.length + " bytes, the encoding says " + (header + length) + ")";
        }
        return null;
    }
}
