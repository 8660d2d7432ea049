package river.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One connector entry: where upstream servers come from, and how to connect to them.
 *
 * @param source a literal address, or a DNS name re-resolved while River runs
 * @param tlsSni the server name for TLS to the upstream; TLS is used when present or when {@code tlsFromName}
 * @param tlsFromName TLS with the name the server was discovered under as SNI (River 0.8's {@code tls=true})
 * @param proto which HTTP versions may be spoken to the upstream
 * @param weight relative share of traffic in weighted selection
 * @param caPath PEM file of the certificate authorities the upstream's certificate must chain to;
 *     empty means the JDK's trusted roots
 * @param tlsVerify whether the upstream's certificate is verified at all (false only for testing)
 * @param timeouts per-connector timeouts (River 0.8's names); zero keeps the service's setting
 * @param refresh when a {@code dns} or {@code srv} source is looked up again
 * @param sendProxyProtocol the PROXY protocol version (1 or 2) sent at the start of each connection, or 0 for none
 */
public record ConnectorConfig(Source source, Optional<String> tlsSni, boolean tlsFromName, UpstreamProto proto, int weight,
        Optional<Path> caPath, boolean tlsVerify, Timeouts timeouts, Refresh refresh, int sendProxyProtocol) {
    public static final int DEFAULT_WEIGHT = 1;

    /** A literal-address connector with default timeouts. */
    public ConnectorConfig(String host, int port, Optional<String> tlsSni, UpstreamProto proto, int weight, Optional<Path> caPath, boolean tlsVerify) {
        this(new Source.Address(host, port), tlsSni, false, proto, weight, caPath, tlsVerify, Timeouts.NONE, Refresh.TTL, 0);
    }

    /** Where the connector's servers come from. */
    public sealed interface Source {
        /** Hands this to the visitor's method for its kind: adding a kind fails to compile where it is not handled. */
        <R> R accept(Visitor<R> visitor);

        /** One method per kind. */
        interface Visitor<R> {
            R address(Address source);

            R dns(Dns source);

            R srv(Srv source);
        }

        /**
         * One server at a literal address.
         *
         * @param host an IPv4 or IPv6 literal (without brackets)
         */
        record Address(String host, int port) implements Source {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.address(this);
            }

            /** {@code host:port}, with IPv6 hosts in brackets. */
            @Override
            public String toString() {
                return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            }
        }

        /** Every address in the name's A and AAAA records, on {@code port}. */
        record Dns(String hostname, int port) implements Source {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.dns(this);
            }

            @Override
            public String toString() {
                return "dns \"" + hostname + "\" port=" + port;
            }
        }

        /** Every target of the name's SRV records, on the records' ports. */
        record Srv(String name) implements Source {
            @Override
            public <R> R accept(Visitor<R> visitor) {
                return visitor.srv(this);
            }

            @Override
            public String toString() {
                return "srv \"" + name + "\"";
            }
        }
    }

    /**
     * River 0.8's connector timeouts in milliseconds; 0 means "not set".
     *
     * @param connectMs establishing the TCP connection
     * @param totalConnectMs establishing the connection including TLS (and, for HTTP/2, the peer's settings)
     * @param readMs waiting for data from the upstream (the response head, and between body pieces)
     * @param writeMs writing to the upstream (between request body pieces)
     * @param idleMs how long an unused pooled connection is kept
     */
    public record Timeouts(int connectMs, int totalConnectMs, int readMs, int writeMs, int idleMs) {
        public static final Timeouts NONE = new Timeouts(0, 0, 0, 0, 0);
    }

    /**
     * How often a {@code dns}/{@code srv} source is looked up again.
     *
     * @param fixedSeconds a fixed interval, or 0 to follow the answer's TTL
     * @param minSeconds lower bound for this source, or 0 for the service's {@code refresh-bounds}
     * @param maxSeconds upper bound for this source, or 0 for the service's {@code refresh-bounds}
     */
    public record Refresh(int fixedSeconds, int minSeconds, int maxSeconds) {
        public static final Refresh TTL = new Refresh(0, 0, 0);
    }

    /** Whether connections to these servers use TLS. */
    public boolean tls() {
        return tlsSni.isPresent() || tlsFromName;
    }

    /** The literal address's host, or null for a discovered source. */
    public String host() {
        return source instanceof Source.Address a ? a.host() : null;
    }

    /** The literal address's (or DNS source's) port, or 0 for SRV. */
    public int port() {
        return source instanceof Source.Address a ? a.port() : source instanceof Source.Dns d ? d.port() : 0;
    }

    /** How the entry reads in the configuration, for messages. */
    public String address() {
        return source.toString();
    }
}
