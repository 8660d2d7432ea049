package river.upstream;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * One upstream server as the engine sees it.
 *
 * @param label {@code ip:port}, for logs and as the key of its pooled connections
 * @param weight relative share of traffic in weighted selection
 * @param tls TLS towards the peer, or null for cleartext
 * @param priority the SRV priority tier (lower is preferred; 0 for servers not found through SRV)
 * @param timeouts the connector's own timeouts
 * @param proxyProtocol the PROXY protocol version sent at the start of each connection (1, 2), or 0
 */
public record Peer(InetSocketAddress address, String label, int weight, UpstreamTls tls, int priority, PeerTimeouts timeouts,
        int proxyProtocol) {

    public Peer(InetSocketAddress address, String label, int weight, UpstreamTls tls) {
        this(address, label, weight, tls, 0, PeerTimeouts.NONE, 0);
    }

    public Peer(InetSocketAddress address, String label, int weight, UpstreamTls tls, int priority, PeerTimeouts timeouts) {
        this(address, label, weight, tls, priority, timeouts, 0);
    }

    /** A cleartext peer for an IP literal and port; never resolves a name. */
    public static Peer of(String ipLiteral, int port, int weight) {
        return of(ipLiteral, port, weight, null);
    }

    /** A peer for an IP literal and port, with TLS when {@code tls} is not null. */
    public static Peer of(String ipLiteral, int port, int weight, UpstreamTls tls) {
        byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(ipLiteral);
        if (ip == null) {
            throw new IllegalArgumentException("not an IP literal: " + ipLiteral);
        }
        try {
            return of(InetAddress.getByAddress(ip), port, weight, tls, 0, PeerTimeouts.NONE);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A peer for a resolved address. */
    public static Peer of(InetAddress ip, int port, int weight, UpstreamTls tls, int priority, PeerTimeouts timeouts) {
        return of(ip, port, weight, tls, priority, timeouts, 0);
    }

    /** A peer for a resolved address that is sent a PROXY protocol header of {@code proxyProtocol} (1, 2; 0 for none). */
    public static Peer of(InetAddress ip, int port, int weight, UpstreamTls tls, int priority, PeerTimeouts timeouts, int proxyProtocol) {
        String text = io.netty.util.NetUtil.toAddressString(ip);
        String label = (text.contains(":") ? "[" + text + "]" : text) + ":" + port;
        return new Peer(new InetSocketAddress(ip, port), label, weight, tls, priority, timeouts, proxyProtocol);
    }

    /** The IP as text: dotted quad, or RFC 5952's compressed lower-case IPv6 form. */
    public String ipText() {
        return io.netty.util.NetUtil.toAddressString(address.getAddress());
    }

    @Override
    public String toString() {
        return label;
    }

    /**
     * A connector's own timeouts in milliseconds; 0 keeps the service's setting.
     *
     * @param connectMs TCP connect
     * @param totalConnectMs connect plus TLS handshake (and HTTP/2 settings)
     * @param readMs waiting for the response head, and between response body pieces
     * @param writeMs between request body pieces sent upstream
     * @param idleMs how long an unused pooled connection is kept
     */
    public record PeerTimeouts(int connectMs, int totalConnectMs, int readMs, int writeMs, int idleMs) {
        public static final PeerTimeouts NONE = new PeerTimeouts(0, 0, 0, 0, 0);
    }
}
