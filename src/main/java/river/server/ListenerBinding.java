package river.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import river.config.ListenAddress;

/** Binds one listener of a service on the service's event loops. */
public final class ListenerBinding {
    private ListenerBinding() {}

    /**
     * Binds the address and returns the listening channel (its local address has the real port when
     * the configuration asked for port 0).
     */
    public static Channel bind(ListenAddress address, EventLoopGroup group, Transport transport, ChannelHandler initializer)
            throws IOException, InterruptedException {
        return bind(address, group, transport, initializer, InheritedListeners.none());
    }

    /**
     * Adopts the inherited socket bound to the address when there is one (it is already listening:
     * it is registered, never bound again, so not one queued connection is lost), else binds it.
     */
    public static Channel bind(ListenAddress address, EventLoopGroup group, Transport transport, ChannelHandler initializer,
            InheritedListeners inherited) throws IOException, InterruptedException {
        return bind(address, group, transport, initializer, inherited, true);
    }

    /**
     * Like {@link #bind(ListenAddress, EventLoopGroup, Transport, ChannelHandler, InheritedListeners)}; when
     * {@code accepting} is false the socket listens but accepts nothing (connections wait in its backlog) until
     * {@code channel.config().setAutoRead(true)}: a service waiting for its first ACME certificate.
     */
    public static Channel bind(ListenAddress address, EventLoopGroup group, Transport transport, ChannelHandler initializer,
            InheritedListeners inherited, boolean accepting) throws IOException, InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).childHandler(initializer);
        if (!accepting) {
            bootstrap.option(ChannelOption.AUTO_READ, false);
        }
        java.util.Optional<InheritedListeners.Inherited> adopted = inherited.take(address);
        if (adopted.isPresent()) {
            if (transport != Transport.EPOLL) {
                throw new IOException("an inherited listener (" + adopted.get() + ") needs the epoll transport");
            }
            int fd = adopted.get().fd();
            boolean tcp = address instanceof ListenAddress.Tcp;
            bootstrap.channelFactory(() -> tcp ? new io.netty.channel.epoll.EpollServerSocketChannel(fd)
                    : new io.netty.channel.epoll.EpollServerDomainSocketChannel(fd, true));
            if (tcp) {
                bootstrap.childOption(ChannelOption.TCP_NODELAY, true).childOption(ChannelOption.SO_KEEPALIVE, true);
            }
            return bootstrap.register().sync().channel();
        }
        SocketAddress socketAddress;
        if (address instanceof ListenAddress.Tcp tcp) {
            bootstrap.channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true);
            socketAddress = new InetSocketAddress(java.net.InetAddress.getByAddress(
                    io.netty.util.NetUtil.createByteArrayFromIpAddressString(tcp.host())), tcp.port());
        } else {
            Path path = ((ListenAddress.Unix) address).path();
            if (transport != Transport.EPOLL && !Files.isDirectory(path.getParent())) {
                throw new IOException("no directory for unix socket " + path);
            }
            // A socket file left by a previous run would make bind fail.
            Files.deleteIfExists(path);
            bootstrap.channel(transport.serverDomainChannel()).option(ChannelOption.SO_BACKLOG, 4096);
            socketAddress = transport == Transport.EPOLL ? new DomainSocketAddress(path.toFile())
                    : java.net.UnixDomainSocketAddress.of(path);
        }
        ChannelFuture bound = bootstrap.bind(socketAddress).sync();
        return bound.channel();
    }
}
