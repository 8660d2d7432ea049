package river.config;

import java.nio.file.Path;
import java.util.List;

/**
 * TLS termination on a listener.
 *
 * @param minVersion the lowest protocol version accepted, "1.2" or "1.3"
 * @param ciphers the allowed TLS 1.2 cipher suites (IANA names); empty means River's AEAD defaults
 * @param sni further certificates chosen by the name the client asks for (SNI); the listener's own
 *     certificate is the default when the name is absent or matches none
 */
public record TlsSettings(Path certPath, Path keyPath, String minVersion, List<String> ciphers, List<SniCertificate> sni) {
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

    public TlsSettings {
        ciphers = List.copyOf(ciphers);
        sni = List.copyOf(sni);
    }

    /**
     * A certificate served to clients asking for {@code serverName}: an exact name, or
     * {@code *.example.com} for any single label below example.com.
     */
    public record SniCertificate(String serverName, Path certPath, Path keyPath) {}
}
