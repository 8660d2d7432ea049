package river.upstream;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol header River sends a connector with {@code send-proxy-protocol}: written
 * before anything else on the connection (before TLS), naming the client and the address it
 * connected to.
 */
final class ProxyHeader {
    private ProxyHeader() {}

    /** The header for a client; LOCAL (no addresses) when the client is not known (a Unix socket). */
    static HAProxyMessage of(int version, InetSocketAddress client, InetSocketAddress destination) {
        HAProxyProtocolVersion v = version == 1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2;
        if (client == null || destination == null) {
            return new HAProxyMessage(v, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        }
        boolean v4 = client.getAddress() instanceof Inet4Address && destination.getAddress() instanceof Inet4Address;
        return new HAProxyMessage(v, HAProxyCommand.PROXY, v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(client, v4), text(destination, v4), client.getPort(), destination.getPort());
    }

    /** The address as the header spells it; IPv4 in IPv6 form when the other side is IPv6. */
    private static String text(InetSocketAddress address, boolean v4) {
        String ip = io.netty.util.NetUtil.toAddressString(address.getAddress());
        return v4 || ip.contains(":") ? ip : "::ffff:" + ip;
    }

    /** Puts the encoder at the front of a new connection's pipeline (before TLS). */
    static void install(Channel ch, HAProxyMessage header) {
        // A connection that never got connected never wrote the header: release it then.
        ch.closeFuture().addListener(f -> {
            if (header.refCnt() > 0) {
                header.release();
            }
        });
        ch.pipeline().addFirst(MARK, new io.netty.channel.ChannelDuplexHandler());
        ch.pipeline().addFirst(ENCODER, HAProxyMessageEncoder.INSTANCE);
    }

    /**
     * Writes the header as the connection's first bytes: called when the connect succeeds, before
     * anything else can write (and before TLS starts), from just after the encoder so that only the
     * encoder, and no later handler (TLS), touches it.
     */
    static void send(Channel ch, HAProxyMessage header) {
        ch.pipeline().context(MARK).writeAndFlush(header);
    }

    private static final String ENCODER = "proxy-encoder";
    private static final String MARK = "proxy-header";
}
