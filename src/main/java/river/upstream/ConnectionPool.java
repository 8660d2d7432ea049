package river.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Upstream HTTP/1.1 connections of one service, shared by all its event loops (Pingora's design,
 * which nginx's per-worker pools lack). A request takes an idle connection owned by its own event
 * loop if there is one, else borrows another loop's, and only then dials. Idle connections are
 * bounded per peer and closed after the idle timeout, or as soon as the origin closes or speaks.
 */
public final class ConnectionPool {
    private static final AttributeKey<UpstreamConnection> CONNECTION = AttributeKey.valueOf("river.upstream.connection");
    private static final AttributeKey<Peer> PEER = AttributeKey.valueOf("river.upstream.peer");

    private final Bootstrap bootstrap;
    private final Map<EventExecutor, Integer> loopIndex = new IdentityHashMap<>();
    private final int loops;
    private final int maxIdlePerPeer;
    private final long idleTimeoutNanos;
    /** Idle connections by peer label ("ip:port"): a String key hashes cheaply and is cached. */
    private final ConcurrentHashMap<String, IdleSet> idle = new ConcurrentHashMap<>();
    private final io.netty.util.concurrent.ScheduledFuture<?> sweeper;
    private final LongAdder connects = new LongAdder();
    private final LongAdder reuses = new LongAdder();

    /**
     * @param group the service's event loops; every connection lives on one of them
     * @param maxIdlePerPeer idle connections kept per peer (0 disables reuse)
     */
    public ConnectionPool(EventLoopGroup group, Class<? extends Channel> channelType, int connectTimeoutMs,
            int maxIdlePerPeer, long idleTimeoutMs, int maxResponseHeaderBytes) {
        int i = 0;
        for (EventExecutor e : group) {
            loopIndex.put(e, i++);
        }
        this.loops = i;
        this.maxIdlePerPeer = maxIdlePerPeer;
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
        long sweepEvery = Math.max(50, Math.min(idleTimeoutMs / 2, 5_000));
        this.sweeper = group.next().scheduleAtFixedRate(this::sweep, sweepEvery, sweepEvery, TimeUnit.MILLISECONDS);
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(maxResponseHeaderBytes)
                .setMaxChunkSize(64 * 1024);
        this.bootstrap = new Bootstrap()
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Peer peer = ch.attr(PEER).get();
                        UpstreamConnection connection = new UpstreamConnection(ch, peer, ConnectionPool.this);
                        ch.attr(CONNECTION).set(connection);
                        if (peer.tls() != null) {
                            ch.pipeline().addLast("tls", peer.tls().newHandler(ch.alloc(), peer.address().getPort()));
                        }
                        ch.pipeline().addLast("http", new HttpClientCodec(decoder, false, false));
                        ch.pipeline().addLast("forward", connection.new EventForwarder());
                        // Named handlers let a protocol switch replace the codec (takeOverAsTunnel).
                    }
                });
    }

    /**
     * An idle connection to the peer, preferring one owned by {@code loop}, with the listener
     * attached; or null when there is none.
     */
    public UpstreamConnection takeIdle(Peer peer, EventLoop loop, UpstreamListener listener) {
        return takeIdle(peer, loop, listener, true);
    }

    /**
     * As {@link #takeIdle(Peer, EventLoop, UpstreamListener)}; with {@code borrow} false only a
     * connection owned by {@code loop} is taken.
     */
    public UpstreamConnection takeIdle(Peer peer, EventLoop loop, UpstreamListener listener, boolean borrow) {
        UpstreamConnection reused = takeIdle(peer, loop, borrow);
        if (reused != null) {
            reuses.increment();
            reused.attach(listener);
        }
        return reused;
    }

    /** Opens a new connection to the peer on {@code loop}; the listener is attached on success. */
    public Future<UpstreamConnection> connect(Peer peer, EventLoop loop, UpstreamListener listener) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        ChannelFuture connect = bootstrap.clone(loop).attr(PEER, peer).connect(peer.address());
        connect.addListener(done -> {
            Channel ch = connect.channel();
            if (!done.isSuccess()) {
                promise.tryFailure(done.cause());
                ch.close();
                return;
            }
            io.netty.handler.ssl.SslHandler tls = ch.pipeline().get(io.netty.handler.ssl.SslHandler.class);
            if (tls == null) {
                ready(ch, listener, promise);
                return;
            }
            // A failed handshake is a failed connect: the request may still go to another peer.
            tls.handshakeFuture().addListener(handshake -> {
                if (handshake.isSuccess()) {
                    ready(ch, listener, promise);
                } else {
                    promise.tryFailure(handshake.cause());
                    ch.close();
                }
            });
        });
        return promise;
    }

    private void ready(Channel ch, UpstreamListener listener, Promise<UpstreamConnection> promise) {
        connects.increment();
        UpstreamConnection connection = ch.attr(CONNECTION).get();
        connection.attach(listener);
        if (!promise.trySuccess(connection)) {
            connection.discard();
        }
    }

    private UpstreamConnection takeIdle(Peer peer, EventLoop loop, boolean borrow) {
        IdleSet set = idle.get(peer.label());
        if (set == null) {
            return null;
        }
        Integer own = loopIndex.get(loop);
        int start = own == null ? 0 : own;
        for (int k = 0; k < (borrow ? loops : 1); k++) {
            ConcurrentLinkedDeque<UpstreamConnection> deque = set.byLoop[(start + k) % loops];
            UpstreamConnection c;
            while ((c = deque.pollLast()) != null) {
                set.count.decrementAndGet();
                if (c.usable() && !c.idleLongerThan(idleTimeoutNanos, System.nanoTime())) {
                    return c;
                }
                c.discard();
            }
        }
        return null;
    }

    void release(UpstreamConnection connection) {
        if (!connection.usable() || maxIdlePerPeer == 0) {
            connection.discard();
            return;
        }
        IdleSet set = idle.get(connection.peer().label());
        if (set == null) {
            set = idle.computeIfAbsent(connection.peer().label(), a -> new IdleSet(loops));
        }
        int idleNow;
        do {
            idleNow = set.count.get();
            if (idleNow >= maxIdlePerPeer) {
                connection.discard();
                return;
            }
        } while (!set.count.compareAndSet(idleNow, idleNow + 1));
        Integer index = loopIndex.get(connection.channel().eventLoop());
        connection.detach(System.nanoTime());
        set.byLoop[index == null ? 0 : index].offerLast(connection);
    }

    /**
     * Closes idle connections that outlived the idle timeout. Runs periodically off the request
     * path, so that parking and taking a connection costs no timer operation.
     */
    private void sweep() {
        long now = System.nanoTime();
        for (IdleSet set : idle.values()) {
            for (ConcurrentLinkedDeque<UpstreamConnection> deque : set.byLoop) {
                for (UpstreamConnection c : deque) {
                    if (c.idleLongerThan(idleTimeoutNanos, now) && deque.remove(c)) {
                        set.count.decrementAndGet();
                        c.discard();
                    }
                }
            }
        }
    }

    /** Drops a connection that died while idle. */
    void forget(UpstreamConnection connection) {
        IdleSet set = idle.get(connection.peer().label());
        if (set != null) {
            for (ConcurrentLinkedDeque<UpstreamConnection> deque : set.byLoop) {
                if (deque.remove(connection)) {
                    set.count.decrementAndGet();
                }
            }
        }
        connection.channel().close();
    }

    /** Connections opened so far. */
    public long connects() {
        return connects.sum();
    }

    /** Requests served on an already open connection so far. */
    public long reuses() {
        return reuses.sum();
    }

    /** Idle connections now held for all peers. */
    public int idleCount() {
        int n = 0;
        for (IdleSet s : idle.values()) {
            n += s.count.get();
        }
        return n;
    }

    /** Closes every idle connection and stops the sweeper (at shutdown). */
    public void closeIdle() {
        sweeper.cancel(false);
        for (IdleSet set : idle.values()) {
            for (ConcurrentLinkedDeque<UpstreamConnection> deque : set.byLoop) {
                UpstreamConnection c;
                while ((c = deque.pollFirst()) != null) {
                    set.count.decrementAndGet();
                    c.discard();
                }
            }
        }
    }

    /** Idle connections to one peer, one deque per event loop. */
    private static final class IdleSet {
        final ConcurrentLinkedDeque<UpstreamConnection>[] byLoop;
        final AtomicInteger count = new AtomicInteger();

        @SuppressWarnings("unchecked")
        IdleSet(int loops) {
            byLoop = new ConcurrentLinkedDeque[loops];
            for (int i = 0; i < loops; i++) {
                byLoop[i] = new ConcurrentLinkedDeque<>();
            }
        }
    }
}
