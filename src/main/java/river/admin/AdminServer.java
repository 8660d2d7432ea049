package river.admin;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.AdminConfig;
import river.config.ListenAddress;
import river.server.InheritedListeners;
import river.server.ListenerBinding;
import river.server.Transport;
import river.service.ReloadOutcome;
import river.service.RiverServer;

/**
 * The admin listener ({@code system { admin { enabled true } }}): {@code GET /metrics}, {@code /health},
 * {@code /ready}, {@code /config} and {@code POST /reload} over HTTP/1.1, on a TCP address (loopback by
 * default) or a unix socket (mode 0600, answered only for a peer of River's own user or root).
 *
 * <p>It runs on an event-loop group of its own (one thread), never a service's, so a flood of traffic
 * cannot hold its requests in a service's queues; its own connections are bounded
 * ({@link #MAX_CONNECTIONS}, idle ones closed after {@link #IDLE_SECONDS}) and so are its requests
 * ({@link #MAX_REQUEST_BYTES}). A reload runs on the reload thread, never on the admin loop.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    /** Admin connections open at once; one more is closed when accepted. */
    static final int MAX_CONNECTIONS = 64;
    /** A connection with no request in progress and nothing read for this long is closed. */
    static final int IDLE_SECONDS = 60;
    /** The largest request head and body the admin listener reads (it needs no body). */
    static final int MAX_REQUEST_BYTES = 8192;

    /** Queues an in-place reload of the file River started with (what SIGHUP does) and completes with its outcome. */
    @FunctionalInterface
    public interface Reloader {
        CompletableFuture<ReloadOutcome> reload();
    }

    private final EventLoopGroup group;
    private final Channel listener;
    private final ListenAddress address;
    private final ChannelGroup connections;
    private volatile boolean handedOver;

    private AdminServer(EventLoopGroup group, Channel listener, ListenAddress address, ChannelGroup connections) {
        this.group = group;
        this.listener = listener;
        this.address = address;
        this.connections = connections;
    }

    /**
     * Binds the admin listener (or adopts the inherited socket bound to its address, after an upgrade
     * or under systemd) on a new single-thread event-loop group; reads the bearer token from
     * {@code token-file} first. On failure nothing is left open.
     */
    public static AdminServer start(AdminConfig config, RiverServer server, Reloader reloader, InheritedListeners inherited)
            throws IOException, InterruptedException {
        byte[] token = config.tokenFile().isPresent() ? readToken(config.tokenFile().get()) : null;
        Transport transport = server.transport();
        EventLoopGroup group = transport.newGroup(1, "admin");
        ChannelGroup connections = new DefaultChannelGroup("river-admin", group.next());
        AdminHandler.Endpoints endpoints = new AdminHandler.Endpoints(server, reloader, token);
        boolean adopting = inherited.offers(config.listen());
        Channel listener;
        try {
            listener = ListenerBinding.bind(config.listen(), group, transport, new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) throws IOException {
                    if (connections.size() >= MAX_CONNECTIONS || !AdminHandler.samePeer(ch)) {
                        ch.close();
                        return;
                    }
                    connections.add(ch);
                    ch.pipeline().addLast("idle", new IdleStateHandler(IDLE_SECONDS, 0, 0))
                            .addLast("http", new HttpServerCodec(4096, MAX_REQUEST_BYTES, MAX_REQUEST_BYTES))
                            .addLast("aggregate", new HttpObjectAggregator(MAX_REQUEST_BYTES))
                            .addLast("admin", new AdminHandler(endpoints));
                }
            }, inherited);
            if (config.listen() instanceof ListenAddress.Unix unix) {
                Files.setPosixFilePermissions(unix.path(), PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("admin listener " + config.listen() + ": " + e.getMessage(), e);
        }
        AdminServer admin = new AdminServer(group, listener, config.listen(), connections);
        LOG.info("admin {} {}{}", adopting ? "adopted the inherited listener" : "listening on", admin.describe(),
                token == null ? "" : " (bearer token required)");
        return admin;
    }

    /** The token in {@code file}, its trailing line break and spaces dropped; an empty one is refused. */
    static byte[] readToken(Path file) throws IOException {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
            throw new IOException("admin token-file " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (token.isEmpty()) {
            throw new IOException("admin token-file " + file + " is empty");
        }
        return token.getBytes(StandardCharsets.UTF_8);
    }

    /** The listening socket: what an upgrade hands to the new instance with the services' listeners. */
    public Channel listener() {
        return listener;
    }

    /**
     * After a hand-over that adopted the admin socket: stops accepting on it without closing it (the new
     * instance serves on it now; closing a unix socket would remove its file) and closes the admin
     * connections open here, so that a client's next request, on a new connection, reaches the new instance.
     */
    public void handOver(Collection<Channel> adopted) {
        if (adopted.contains(listener)) {
            handedOver = true;
            listener.deregister().awaitUninterruptibly(5, TimeUnit.SECONDS);
            connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private String describe() {
        Object local = listener.localAddress();
        if (local instanceof java.net.InetSocketAddress inet) {
            String host = inet.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return address.toString();
    }

    /** Closes the listener (unless handed over) and every admin connection, and stops the admin's event loop. */
    @Override
    public void close() {
        if (!handedOver) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
