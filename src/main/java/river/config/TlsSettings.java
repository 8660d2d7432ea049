package river.config;

import java.nio.file.Path;
import java.util.List;

/**
 * TLS termination on a listener.
 *
 * @param minVersion the lowest protocol version accepted, "1.2" or "1.3"
 * @param ciphers the allowed TLS 1.2 cipher suites (IANA names); empty means River's AEAD defaults
 */
public record TlsSettings(Path certPath, Path keyPath, String minVersion, List<String> ciphers) {
    public static final String DEFAULT_MIN_VERSION = "1.2";

    public TlsSettings {
        ciphers = List.copyOf(ciphers);
    }
}
