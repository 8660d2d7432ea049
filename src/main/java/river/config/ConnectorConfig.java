package river.config;

import java.util.Optional;

/**
 * One upstream server.
 *
 * @param host an IPv4 or IPv6 literal (without brackets)
 * @param tlsSni the server name for TLS to the upstream; TLS is used only when present
 * @param proto which HTTP versions may be spoken to the upstream
 * @param weight relative share of traffic in weighted selection
 * @param caPath PEM file of the certificate authorities the upstream's certificate must chain to;
 *     empty means the JDK's trusted roots
 * @param tlsVerify whether the upstream's certificate is verified at all (false only for testing)
 */
public record ConnectorConfig(
        String host, int port, Optional<String> tlsSni, UpstreamProto proto, int weight, Optional<java.nio.file.Path> caPath, boolean tlsVerify) {
    public static final int DEFAULT_WEIGHT = 1;

    /** {@code host:port}, with IPv6 hosts in brackets. */
    public String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
