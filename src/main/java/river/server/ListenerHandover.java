package river.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Hands listening sockets from a running River to the one that upgrades it, over a Unix socket with
 * {@code SCM_RIGHTS}, so that not one queued connection is lost. The new instance listens on the
 * upgrade socket; the old one, told by SIGQUIT, connects and the two speak a short line protocol:
 *
 * <pre>
 * old → new   RIVER-UPGRADE 1 &lt;n&gt;           how many sockets follow
 * new → old   SEND                           the new side now reads descriptors
 * old → new   n descriptors (SCM_RIGHTS)     copies: the old side keeps serving on its own
 * new → old   SERVING &lt;i,j,...&gt;           it serves; the indexes of the sockets it adopted
 *         or  FAILED &lt;reason&gt;               (or the connection closes): the old side goes on
 * </pre>
 *
 * The old side stops accepting only once the new one serves, so an upgrade whose new instance fails
 * to start costs nothing. Only a peer with the same user id (or root) is answered.
 */
public final class ListenerHandover {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ListenerHandover.class);
    private static final String HELLO = "RIVER-UPGRADE 1 ";
    private static final int MAX_SOCKETS = 1024;
    private static final int MAX_LINE = 8192;

    private ListenerHandover() {}

    // ---- the new instance -----------------------------------------------------------------------

    /** What the new instance received, and the connection on which it says whether it serves. */
    public static final class Receipt {
        private final List<InheritedListeners.Inherited> sockets;
        private final Channel connection;
        private final EventLoopGroup group;

        private Receipt(List<InheritedListeners.Inherited> sockets, Channel connection, EventLoopGroup group) {
            this.sockets = List.copyOf(sockets);
            this.connection = connection;
            this.group = group;
        }

        /** The sockets, identified, in the order they came. */
        public List<InheritedListeners.Inherited> sockets() {
            return sockets;
        }

        /** Tells the old instance this one serves, and which of the sockets it adopted. */
        public void serving(List<InheritedListeners.Inherited> adopted) {
            StringBuilder line = new StringBuilder("SERVING ");
            for (int i = 0; i < sockets.size(); i++) {
                if (adopted.contains(sockets.get(i))) {
                    line.append(line.length() > 8 ? "," : "").append(i);
                }
            }
            finish(line.toString());
        }

        /** Tells the old instance this one could not start, so it keeps serving. */
        public void failed(String reason) {
            finish("FAILED " + reason.replace('\n', ' '));
        }

        private void finish(String line) {
            try {
                connection.writeAndFlush(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8))
                        .addListener(f -> connection.close()).await(5, TimeUnit.SECONDS);
                connection.close().await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * Listens on {@code socketPath} and waits at most {@code wait} for a running River to hand over its
     * listeners; the upgrade socket is removed once they have arrived.
     */
    public static Receipt receive(Path socketPath, Duration wait) throws IOException, InterruptedException, TimeoutException {
        EventLoopGroup group = Transport.EPOLL.newGroup(1, "upgrade");
        CompletableFuture<Receipt> received = new CompletableFuture<>();
        Channel server = null;
        try {
            Files.deleteIfExists(socketPath);
            server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) throws IOException {
                            if (received.isDone() || !samePeer((EpollDomainSocketChannel) ch)) {
                                ch.close();
                                return;
                            }
                            ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE), new Receiver(received, group));
                        }
                    })
                    .bind(new DomainSocketAddress(socketPath.toFile())).sync().channel();
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
            LOG.info("upgrade: waiting up to {} s on {} for the running River's listeners (send it SIGQUIT)", wait.toSeconds(), socketPath);
            return received.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("the hand-over failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException | IOException | InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        } finally {
            if (server != null) {
                server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Whether the process at the other end of a unix-socket connection is River's own user or root. */
    public static boolean samePeer(EpollDomainSocketChannel ch) throws IOException {
        long peer = ch.peerCredentials().uid();
        long self = new com.sun.security.auth.module.UnixSystem().getUid();
        return peer == self || peer == 0;
    }

    /** The new side of one hand-over connection. */
    private static final class Receiver extends Side<Object, Receipt> {
        private final EventLoopGroup group;
        private final List<InheritedListeners.Inherited> sockets = new ArrayList<>();
        private int expected = -1;

        Receiver(CompletableFuture<Receipt> received, EventLoopGroup group) {
            super(Object.class, received);
            this.group = group;
        }

        @Override
        String leftEarly() {
            return "the running instance left after " + sockets.size() + " of " + Math.max(expected, 0) + " sockets";
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) throws IOException {
            if (msg instanceof ByteBuf line && expected < 0) {
                String text = line.toString(StandardCharsets.UTF_8);
                int n = text.startsWith(HELLO) ? parseCount(text.substring(HELLO.length())) : -1;
                if (n < 0) {
                    throw new IOException("not a River hand-over: \"" + text + "\"");
                }
                expected = n;
                ((EpollDomainSocketChannel) ctx.channel()).config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE,
                        DomainSocketReadMode.FILE_DESCRIPTORS);
                ctx.writeAndFlush(Unpooled.copiedBuffer("SEND\n", StandardCharsets.US_ASCII));
                completeIfAll(ctx);
            } else if (msg instanceof FileDescriptor fd && expected >= 0) {
                sockets.add(InheritedListeners.identify(fd.intValue(), "the running instance"));
                completeIfAll(ctx);
            } else {
                throw new IOException("unexpected message in a hand-over: " + msg);
            }
        }

        private void completeIfAll(ChannelHandlerContext ctx) {
            if (sockets.size() == expected) {
                result.complete(new Receipt(sockets, ctx.channel(), group));
            }
        }

        private static int parseCount(String text) {
            try {
                int n = Integer.parseInt(text.strip());
                return n <= MAX_SOCKETS ? n : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

    }

    // ---- the old instance -----------------------------------------------------------------------

    /** The new instance's answer: it serves and adopted these of the sockets sent, or it failed. */
    public record Outcome(boolean serving, List<Channel> adopted, String reason) {}

    /**
     * Sends copies of {@code listeners} to the instance waiting on {@code socketPath} and waits at most
     * {@code wait} for it to serve. Never throws for a failed hand-over: the outcome says why.
     */
    public static Outcome send(Path socketPath, List<Channel> listeners, Duration wait) throws InterruptedException {
        EventLoopGroup group = Transport.EPOLL.newGroup(1, "upgrade");
        CompletableFuture<String> answer = new CompletableFuture<>();
        try {
            Channel ch = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE), new Sender(listeners, answer));
                        }
                    })
                    .connect(new DomainSocketAddress(socketPath.toFile())).await().channel();
            if (!ch.isActive()) {
                return new Outcome(false, List.of(), "no instance waits on " + socketPath);
            }
            ch.writeAndFlush(Unpooled.copiedBuffer(HELLO + listeners.size() + "\n", StandardCharsets.US_ASCII));
            String line = answer.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            ch.close();
            if (!line.startsWith("SERVING ")) {
                return new Outcome(false, List.of(), line.startsWith("FAILED ") ? line.substring(7) : line);
            }
            List<Channel> adopted = new ArrayList<>();
            for (String index : line.substring(8).split(",")) {
                if (!index.isBlank()) {
                    adopted.add(listeners.get(Integer.parseInt(index.strip())));
                }
            }
            return new Outcome(true, adopted, "");
        } catch (ExecutionException e) {
            return new Outcome(false, List.of(), e.getCause().getMessage());
        } catch (TimeoutException e) {
            return new Outcome(false, List.of(), "the new instance did not serve within " + wait.toSeconds() + " s");
        } catch (RuntimeException e) {
            return new Outcome(false, List.of(), "bad answer from the new instance: " + e.getMessage());
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    /** The old side of the hand-over connection. */
    private static final class Sender extends Side<ByteBuf, String> {
        private final List<Channel> listeners;
        private boolean sent;

        Sender(List<Channel> listeners, CompletableFuture<String> answer) {
            super(ByteBuf.class, answer);
            this.listeners = listeners;
        }

        @Override
        String leftEarly() {
            return "the new instance closed the hand-over without serving";
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            String line = msg.toString(StandardCharsets.UTF_8);
            if (!sent && line.equals("SEND")) {
                sent = true;
                for (Channel listener : listeners) {
                    // A wrapper of the listener's own descriptor: sending it passes a copy and closes nothing.
                    ctx.write(new FileDescriptor(((UnixChannel) listener).fd().intValue()));
                }
                ctx.flush();
                return;
            }
            result.complete(line);
        }
    }

    /** Either end of a hand-over connection: what it waits for, failed when the connection fails or ends first. */
    private abstract static class Side<I, T> extends SimpleChannelInboundHandler<I> {
        final CompletableFuture<T> result;

        Side(Class<I> type, CompletableFuture<T> result) {
            super(type);
            this.result = result;
        }

        /** Why the connection ended before the result, for the log. */
        abstract String leftEarly();

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException(leftEarly()));
        }
    }
}
