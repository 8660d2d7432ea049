package river.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Who is at the other end of a client connection: the socket's peer, or the client a PROXY protocol
 * header named (the load balancer in front of River is not the client).
 */
public final class ClientAddress {
    /** The client a PROXY protocol header named, on the connection (parent) channel. */
    static final AttributeKey<InetSocketAddress> PROXIED = AttributeKey.valueOf("river.http.proxiedClient");

    private ClientAddress() {}

    /** The client of a connection or of an HTTP/2 stream's connection; null for Unix sockets. */
    public static InetSocketAddress of(Channel channel) {
        Channel connection = channel.parent() != null && !(channel.parent() instanceof io.netty.channel.ServerChannel) ? channel.parent() : channel;
        // hasAttr first: attr() would add an empty attribute to every connection without a PROXY header.
        InetSocketAddress proxied = connection.hasAttr(PROXIED) ? connection.attr(PROXIED).get() : null;
        if (proxied != null) {
            return proxied;
        }
        SocketAddress remote = connection.remoteAddress();
        return remote instanceof InetSocketAddress inet ? inet : null;
    }

    /** The address the client connected to (for a PROXY header River sends on), or null. */
    public static InetSocketAddress local(Channel channel) {
        Channel connection = channel.parent() != null && !(channel.parent() instanceof io.netty.channel.ServerChannel) ? channel.parent() : channel;
        SocketAddress local = connection.localAddress();
        return local instanceof InetSocketAddress inet ? inet : null;
    }

    /**
     * Reads the PROXY protocol header (v1 or v2) a listener with {@code proxy-protocol=true} expects
     * before anything else; Netty's decoder before it closes a connection without a valid one.
     */
    public static final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {
        /**
         * The header was refused: the connection is closing, and Netty's decoder, which stays in the
         * pipeline, goes on decoding what it holds when the channel goes inactive; a "header" found
         * there must neither name a client nor reach the HTTP codec.
         */
        private boolean refused;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (refused) {
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HAProxyMessage header) {
                try {
                    // LOCAL (a health check from the balancer itself) and UNKNOWN carry no client.
                    if (header.command() == HAProxyCommand.PROXY && header.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN
                            && header.sourceAddress() != null) {
                        byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(header.sourceAddress());
                        if (ip != null) {
                            ctx.channel().attr(PROXIED).set(new InetSocketAddress(java.net.InetAddress.getByAddress(ip), header.sourcePort()));
                        }
                    }
                } catch (java.net.UnknownHostException e) {
                    ctx.close();
                } finally {
                    header.release();
                }
                ctx.pipeline().remove(this);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // No valid PROXY header: nothing on this connection can be attributed to a client.
            refused = true;
            ctx.close();
        }
    }
}
