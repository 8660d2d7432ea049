package river.config;

import java.util.List;
import java.util.Optional;

/**
 * One socket a service accepts connections on.
 *
 * @param tls TLS termination settings, empty for cleartext
 * @param offerH2 whether HTTP/2 is offered through ALPN (TLS only)
 * @param proxyProtocol whether each connection must start with a PROXY protocol header
 * @param h2c whether a cleartext listener also accepts HTTP/2 with prior knowledge (RFC 9113 §3.3)
 * @param acmeDomains the names ({@code example.com}, {@code *.example.com}) this listener gets one ACME
 *     certificate for ({@code acme-domains}): lower case, trimmed, each once, in configuration order;
 *     empty when none. A listener with some is a TLS listener ({@code tls} present).
 */
public record ListenerConfig(ListenAddress address, Optional<TlsSettings> tls, boolean offerH2, boolean proxyProtocol, boolean h2c,
        List<String> acmeDomains) {

    public ListenerConfig {
        acmeDomains = List.copyOf(acmeDomains);
    }

    public ListenerConfig(ListenAddress address, Optional<TlsSettings> tls, boolean offerH2, boolean proxyProtocol, boolean h2c) {
        this(address, tls, offerH2, proxyProtocol, h2c, List.of());
    }

    public ListenerConfig(ListenAddress address, Optional<TlsSettings> tls, boolean offerH2, boolean proxyProtocol) {
        this(address, tls, offerH2, proxyProtocol, false);
    }
}
