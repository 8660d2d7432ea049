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
 * old → new   RIVER-UPGRADE 1 &lt;n&gt;[ keys]    how many sockets follow; " keys": ticket keys too
 * new → old   SEND                           the new side now reads descriptors
 * old → new   n descriptors (SCM_RIGHTS)     copies: the old side keeps serving on its own
 * new → old   KEYS                           only after " keys": the new side reads lines again
 * old → new   KEY &lt;age-ms&gt; &lt;hex&gt; &lt;service&gt;   per service, its own ticket keys (current first), then
 *             END
 * new → old   SERVING &lt;i,j,...&gt;           it serves; the indexes of the sockets it adopted
 *         or  FAILED &lt;reason&gt;               (or the connection closes): the old side goes on
 * </pre>
 *
 * The old side stops accepting only once the new one serves, so an upgrade whose new instance fails
 * to start costs nothing. Only a peer with the same user id (or root) is answered, and the ticket
 * keys travel only over this connection: never a file, never a log line (their {@code toString} and
 * every error here leave the bytes out). An old side from before the keys sends no {@code keys}: the
 * new side then keeps the keys it made.
 */
public final class ListenerHandover {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ListenerHandover.class);
    private static final String HELLO = "RIVER-UPGRADE 1 ";
    private static final int MAX_SOCKETS = 1024;
    private static final int MAX_LINE = 8192;
    private static final String KEYS_FLAG = " keys";
    /** Bounds what the new side holds: services, and keys per service (River rotates with two). */
    private static final int MAX_KEYED_SERVICES = 1024;
    private static final int MAX_KEYS = 8;

    private ListenerHandover() {}

    // ---- the new instance -----------------------------------------------------------------------

    /** What the new instance received, and the connection on which it says whether it serves. */
    public static final class Receipt {
        private final List<InheritedListeners.Inherited> sockets;
        private final java.util.Map<String, SessionResumption.HandedKeys> ticketKeys;
        private final Channel connection;
        private final EventLoopGroup group;

        private Receipt(List<InheritedListeners.Inherited> sockets, java.util.Map<String, SessionResumption.HandedKeys> ticketKeys,
                Channel connection, EventLoopGroup group) {
            this.sockets = List.copyOf(sockets);
            this.ticketKeys = java.util.Map.copyOf(ticketKeys);
            this.connection = connection;
            this.group = group;
        }

        /** The TLS session ticket keys of the running instance's services, by service name; empty from one that sends none. */
        public java.util.Map<String, SessionResumption.HandedKeys> ticketKeys() {
            return ticketKeys;
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
        private final java.util.Map<String, SessionResumption.HandedKeys> keys = new java.util.LinkedHashMap<>();
        private int expected = -1;
        private boolean keysOffered;
        private boolean readingKeys;

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
            if (msg instanceof ByteBuf line && readingKeys) {
                readKey(ctx, line);
            } else if (msg instanceof ByteBuf line && expected < 0) {
                String text = line.toString(StandardCharsets.UTF_8);
                keysOffered = text.endsWith(KEYS_FLAG);
                String count = keysOffered ? text.substring(0, text.length() - KEYS_FLAG.length()) : text;
                int n = count.startsWith(HELLO) ? parseCount(count.substring(HELLO.length())) : -1;
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
            if (sockets.size() != expected) {
                return;
            }
            if (!keysOffered) {
                result.complete(new Receipt(sockets, keys, ctx.channel(), group));
                return;
            }
            // Lines again before asking: the old side writes them only once it reads KEYS.
            readingKeys = true;
            ((EpollDomainSocketChannel) ctx.channel()).config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE,
                    DomainSocketReadMode.BYTES);
            ctx.writeAndFlush(Unpooled.copiedBuffer("KEYS\n", StandardCharsets.US_ASCII));
        }

        /** One line of the keys: its bytes are zeroed once read, and no error repeats it. */
        private void readKey(ChannelHandlerContext ctx, ByteBuf line) throws IOException {
            try {
                if (line.readableBytes() == 3 && line.toString(StandardCharsets.US_ASCII).equals("END")) {
                    result.complete(new Receipt(sockets, keys, ctx.channel(), group));
                    return;
                }
                String text = line.toString(StandardCharsets.US_ASCII);
                String[] parts = text.split(" ", 4);
                if (parts.length != 4 || !parts[0].equals("KEY") || keys.size() >= MAX_KEYED_SERVICES
                        || parts[2].length() > MAX_KEYS * 2 * river.config.TlsSessions.TICKET_KEY_BYTES) {
                    throw new IOException("a malformed ticket-key line in the hand-over (" + line.readableBytes() + " bytes)");
                }
                try {
                    keys.put(parts[3], new SessionResumption.HandedKeys(java.util.HexFormat.of().parseHex(parts[2]), Long.parseLong(parts[1])));
                } catch (IllegalArgumentException e) { // NumberFormatException too; its message would hold the key
                    throw new IOException("a malformed ticket-key line in the hand-over (" + line.readableBytes() + " bytes)");
                }
            } finally {
                line.setZero(line.readerIndex(), line.readableBytes());
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
        return send(socketPath, listeners, java.util.Map.of(), wait);
    }

    /**
     * As {@link #send(Path, List, Duration)}, offering also the TLS session ticket keys of the services
     * named, which the new instance asks for once it holds the sockets.
     */
    public static Outcome send(Path socketPath, List<Channel> listeners, java.util.Map<String, SessionResumption.HandedKeys> ticketKeys,
            Duration wait) throws InterruptedException {
        EventLoopGroup group = Transport.EPOLL.newGroup(1, "upgrade");
        CompletableFuture<String> answer = new CompletableFuture<>();
        try {
            Channel ch = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE), new Sender(listeners, ticketKeys, answer));
                        }
                    })
                    .connect(new DomainSocketAddress(socketPath.toFile())).await().channel();
            if (!ch.isActive()) {
                return new Outcome(false, List.of(), "no instance waits on " + socketPath);
            }
            // The flag only with keys to give: a River from before them still takes a hand-over without.
            String hello = HELLO + listeners.size() + (ticketKeys.isEmpty() ? "" : KEYS_FLAG);
            ch.writeAndFlush(Unpooled.copiedBuffer(hello + "\n", StandardCharsets.US_ASCII));
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
        private final java.util.Map<String, SessionResumption.HandedKeys> ticketKeys;
        private boolean sent;
        private boolean keysSent;

        Sender(List<Channel> listeners, java.util.Map<String, SessionResumption.HandedKeys> ticketKeys, CompletableFuture<String> answer) {
            super(ByteBuf.class, answer);
            this.listeners = listeners;
            this.ticketKeys = ticketKeys;
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
            if (sent && !keysSent && !ticketKeys.isEmpty() && line.equals("KEYS")) {
                keysSent = true;
                sendKeys(ctx);
                return;
            }
            result.complete(line);
        }

        /** The keys as lines, in an array zeroed once written rather than in a pooled buffer. */
        private void sendKeys(ChannelHandlerContext ctx) {
            java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
            java.util.HexFormat hex = java.util.HexFormat.of();
            for (java.util.Map.Entry<String, SessionResumption.HandedKeys> e : ticketKeys.entrySet()) {
                byte[] keys = e.getValue().keys();
                lines.writeBytes(("KEY " + e.getValue().currentAgeMs() + " ").getBytes(StandardCharsets.US_ASCII));
                for (byte b : keys) {
                    lines.write(hex.toHighHexDigit(b));
                    lines.write(hex.toLowHexDigit(b));
                }
                lines.writeBytes((" " + e.getKey() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            lines.writeBytes("END\n".getBytes(StandardCharsets.US_ASCII));
            byte[] bytes = lines.toByteArray();
            ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener(f -> java.util.Arrays.fill(bytes, (byte) 0));
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
