package river.testsupport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for systemd's notify socket: a Unix datagram socket (a path, or an abstract name given
 * as {@code @name}, as NOTIFY_SOCKET spells it) that records every message sent to it.
 */
public final class NotifySocket implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>(1000);
    private final List<String> seen = new ArrayList<>();
    private final Channel channel;
    private final String name;

    public NotifySocket(String notifySocket) throws InterruptedException {
        this.name = notifySocket;
        String address = notifySocket.startsWith("@") ? "\0" + notifySocket.substring(1) : notifySocket;
        channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                        messages.offer(packet.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(address)).sync().channel();
    }

    /** The value to put in NOTIFY_SOCKET. */
    public String name() {
        return name;
    }

    /**
     * Waits (up to 60 s) for a message with the line {@code line} (such as READY=1) and returns it;
     * fails with every message seen so far otherwise.
     */
    public String await(String line) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (String m : seen) {
            if (m.lines().anyMatch(line::equals)) {
                return m;
            }
        }
        while (System.nanoTime() < deadline) {
            String m = messages.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (m == null) {
                break;
            }
            seen.add(m);
            if (m.lines().anyMatch(line::equals)) {
                return m;
            }
        }
        throw new AssertionError("no notification with " + line + " on " + name + "; received: " + seen);
    }

    /** Every message received so far, in order. */
    public List<String> received() {
        messages.drainTo(seen);
        return List.copyOf(seen);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
