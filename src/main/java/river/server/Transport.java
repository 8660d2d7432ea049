package river.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket implementation River runs on: Linux's native epoll when it loads, Java NIO otherwise.
 * {@code -Driver.transport=nio} forces NIO (for comparison and for platforms without epoll).
 */
public enum Transport {
    EPOLL,
    NIO;

    /** The best transport available on this machine. */
    public static Transport best() {
        if (!"nio".equalsIgnoreCase(System.getProperty("river.transport")) && Epoll.isAvailable()) {
            return EPOLL;
        }
        return NIO;
    }

    /** A group of event-loop threads named after the service. */
    public EventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("river-" + name, true), factory);
    }

    public Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends ServerChannel> serverDomainChannel() {
        return this == EPOLL ? EpollServerDomainSocketChannel.class : NioServerDomainSocketChannel.class;
    }

    public Class<? extends SocketChannel> clientChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** UDP sockets, for DNS queries. */
    public Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannel() {
        return this == EPOLL ? io.netty.channel.epoll.EpollDatagramChannel.class : io.netty.channel.socket.nio.NioDatagramChannel.class;
    }
}
