package river.upstream;

import java.net.InetSocketAddress;

/**
 * One upstream server as the engine sees it: its socket address and selection weight.
 *
 * @param label {@code host:port} as written in the configuration, for logs
 * @param tls TLS towards the peer, or null for cleartext
 */
public record Peer(InetSocketAddress address, String label, int weight, UpstreamTls tls) {

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
            InetSocketAddress address = new InetSocketAddress(java.net.InetAddress.getByAddress(ip), port);
            String label = (ipLiteral.contains(":") ? "[" + ipLiteral + "]" : ipLiteral) + ":" + port;
            return new Peer(address, label, weight, tls);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
