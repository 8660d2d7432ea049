package river.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import river.codec.Http2Codecs;
import river.headers.CompactHeaders;

/**
 * Upstream connections of one service, shared by all its event loops (Pingora's design, which
 * nginx's per-worker pools lack). HTTP/1.1: a request takes an idle connection owned by its own event
 * loop if there is one, else borrows another loop's, and only then dials; idle connections are bounded
 * per peer and closed after the idle timeout, or as soon as the origin closes or speaks. HTTP/2: every
 * request is a stream on one shared connection per peer, and another connection is opened only when
 * the peer's stream limit is reached; one dial per peer at a time, the others wait for it.
 */
public final class ConnectionPool implements UpstreamConnection.Home, ConnectionSource {
    /** The largest read from an upstream connection (see the bootstrap). */
    static final int MAX_READ_BYTES = 128 * 1024;

    /** How much an upstream connection reads at a time: Netty's adaptive guess, up to {@link #MAX_READ_BYTES}. */
    static AdaptiveRecvByteBufAllocator upstreamReadAllocator() {
        return new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ_BYTES);
    }
    private static final AttributeKey<Peer> PEER = AttributeKey.valueOf("river.upstream.peer");
    private static final AttributeKey<Boolean> HTTP1_ONLY = AttributeKey.valueOf("river.upstream.http1Only");
    /** What idle connections are filed under: the peer, and for PROXY-protocol peers also the client. */
    private static final AttributeKey<String> POOL_KEY = AttributeKey.valueOf("river.upstream.poolKey");
    /** The PROXY protocol header to send first, for peers that get one. */
    private static final AttributeKey<io.netty.handler.codec.haproxy.HAProxyMessage> PROXY_HEADER = AttributeKey.valueOf("river.upstream.proxyHeader");
    /** Completed once the connection is ready for requests: with its UpstreamConnection (HTTP/1.1) or Http2Session. */
    private static final AttributeKey<Promise<Object>> READY = AttributeKey.valueOf("river.upstream.ready");

    private final Bootstrap bootstrap;
    private final Map<EventExecutor, Integer> loopIndex = new IdentityHashMap<>();
    private final int loops;
    private final int maxIdlePerPeer;
    private final int connectTimeoutMs;
    private final long idleTimeoutNanos;
    /** Idle connections by peer label ("ip:port"): a String key hashes cheaply and is cached. */
    private final ConcurrentHashMap<String, IdleSet> idle = new ConcurrentHashMap<>();
    /** HTTP/2 connections by peer label. */
    private final ConcurrentHashMap<String, PeerSessions> sessions = new ConcurrentHashMap<>();
    private final io.netty.util.concurrent.ScheduledFuture<?> sweeper;
    /** The labels of peers still in some server set, or null before discovery ever changed one. */
    private volatile java.util.Set<String> live;
    private final LongAdder connects = new LongAdder();
    private final LongAdder reuses = new LongAdder();
    /** HTTP/1.1 connections open now (idle or in use), for the pool-size gauges. */
    private final java.util.concurrent.atomic.AtomicInteger openHttp1 = new java.util.concurrent.atomic.AtomicInteger();
    /** The time idle connections are judged by (System.nanoTime; a fake one in tests). */
    private final LongSupplier clock;
    /** Connection attempts, successful or not (tests tell "never dialled" from "dialled and refused"). */
    private final LongAdder dialsStarted = new LongAdder();

    /**
     * @param group the service's event loops; every connection lives on one of them
     * @param maxIdlePerPeer idle connections kept per peer (0 disables reuse)
     */
    public ConnectionPool(EventLoopGroup group, Class<? extends Channel> channelType, int connectTimeoutMs,
            int maxIdlePerPeer, long idleTimeoutMs, int maxResponseHeaderBytes) {
        this(group, channelType, connectTimeoutMs, maxIdlePerPeer, idleTimeoutMs, maxResponseHeaderBytes, System::nanoTime);
    }

    ConnectionPool(EventLoopGroup group, Class<? extends Channel> channelType, int connectTimeoutMs,
            int maxIdlePerPeer, long idleTimeoutMs, int maxResponseHeaderBytes, LongSupplier clock) {
        this.clock = clock;
        int i = 0;
        for (EventExecutor e : group) {
            loopIndex.put(e, i++);
        }
        this.loops = i;
        this.maxIdlePerPeer = maxIdlePerPeer;
        this.connectTimeoutMs = connectTimeoutMs;
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
        long sweepEvery = Math.max(50, Math.min(idleTimeoutMs / 2, 5_000));
        this.sweeper = group.next().scheduleAtFixedRate(this::sweep, sweepEvery, sweepEvery, TimeUnit.MILLISECONDS);
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setHeadersFactory(CompactHeaders.factory(true))
                .setTrailersFactory(CompactHeaders.trailersFactory())
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(maxResponseHeaderBytes)
                .setMaxChunkSize(64 * 1024);
        this.bootstrap = new Bootstrap()
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                // Reads from an origin grow up to 128 KiB (Netty's default stops at 64 KiB): a 64 KiB
                // body with its head came in two reads and a third that found nothing; now one.
                .option(ChannelOption.RCVBUF_ALLOCATOR, upstreamReadAllocator())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Peer peer = ch.attr(PEER).get();
                        Promise<Object> ready = ch.eventLoop().newPromise();
                        ch.attr(READY).set(ready);
                        io.netty.handler.codec.haproxy.HAProxyMessage header = ch.attr(PROXY_HEADER).get();
                        if (header != null) {
                            ProxyHeader.install(ch, header);
                        }
                        ch.closeFuture().addListener(f -> ready.tryFailure(new java.nio.channels.ClosedChannelException()));
                        if (peer.tls() == null) {
                            ready.trySuccess(installHttp1(ch, peer, decoder));
                            return;
                        }
                        ch.pipeline().addLast("tls", peer.tls().newHandler(ch.alloc(), peer.address().getPort(), Boolean.TRUE.equals(ch.attr(HTTP1_ONLY).get())));
                        ch.pipeline().addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                            @Override
                            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                    installHttp2(ch, peer, ready);
                                } else if (peer.tls().offer() == UpstreamTls.Offer.HTTP2_ONLY && !Boolean.TRUE.equals(ch.attr(HTTP1_ONLY).get())) {
                                    ready.tryFailure(new javax.net.ssl.SSLHandshakeException(peer + " did not agree to HTTP/2 through ALPN (proto=\"h2-only\")"));
                                    ctx.close();
                                } else {
                                    ready.trySuccess(installHttp1(ch, peer, decoder));
                                }
                            }

                            @Override
                            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                                // A failed handshake is a failed connect: the request may still go to another peer.
                                ready.tryFailure(cause);
                                ctx.close();
                            }
                        });
                    }
                });
    }

    /** Sets a connection up for HTTP/1.1; named handlers let a protocol switch replace the codec (takeOverAsTunnel). */
    private UpstreamConnection installHttp1(Channel ch, Peer peer, HttpDecoderConfig decoder) {
        UpstreamConnection connection = new UpstreamConnection(ch, peer, this);
        connection.poolKey = ch.attr(POOL_KEY).get();
        ch.pipeline().addLast("http", new HttpClientCodec(decoder, false, false));
        ch.pipeline().addLast("forward", connection.new EventForwarder());
        return connection;
    }

    /** Sets a connection up for HTTP/2; {@code ready} completes when the peer's first SETTINGS arrive. */
    private static void installHttp2(Channel ch, Peer peer, Promise<Object> ready) {
        Http2Session session = new Http2Session(ch, peer, ready);
        // Requests of many clients share this connection; those sent in one pass of the event loop
        // leave in one write (and one batch of TLS records) instead of one each.
        ch.pipeline().addLast("flush", new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        ch.pipeline().addLast("h2", Http2Codecs.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
                .validateHeaders(true)
                .build());
        // Server push is refused in the settings; a pushed stream would be reset.
        ch.pipeline().addLast("streams", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.close();
            }
        }));
        ch.pipeline().addLast("session", session.watcher());
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
        UpstreamConnection reused = takeIdle(peer, poolKey(peer, listener), loop, borrow);
        if (reused != null) {
            reuses.increment();
            reused.attach(listener);
        }
        return reused;
    }

    /**
     * A connection for one request to the peer, the listener attached: for HTTP/2 peers a new stream
     * on a shared connection, otherwise a new connection opened on {@code loop}; with
     * {@code http1Only} a new HTTP/1.1 connection whatever the peer allows (a WebSocket upgrade needs one).
     */
    public Future<UpstreamConnection> connect(Peer peer, EventLoop loop, UpstreamListener listener, boolean http1Only) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        if (peer.proxyProtocol() > 0) {
            // A PROXY header names one client: its connection cannot be an HTTP/2 session shared by many.
            http1Only = true;
        }
        String key = poolKey(peer, listener);
        io.netty.handler.codec.haproxy.HAProxyMessage header = peer.proxyProtocol() > 0
                ? ProxyHeader.of(peer.proxyProtocol(), listener.proxiedClient(), listener.proxiedDestination()) : null;
        if (!http1Only && peer.tls() != null && peer.tls().offer().mayUseHttp2()) {
            PeerSessions peerSessions = sessions.computeIfAbsent(peer.label(), label -> new PeerSessions());
            if (!peerSessions.speaksHttp1) {
                acquireStream(peer, peerSessions, loop, listener, promise);
                return promise;
            }
        }
        dial(peer, loop, http1Only, key, header).addListener(done -> {
            if (!done.isSuccess()) {
                promise.tryFailure(done.cause());
            } else if (done.getNow() instanceof UpstreamConnection connection) {
                connects.increment();
                countOpen(connection);
                connection.attach(listener);
                if (!promise.trySuccess(connection)) {
                    connection.discard();
                }
            } else {
                // Only reached if a peer offered HTTP/1.1 only yet chose HTTP/2; never reuse such a peer.
                ((Http2Session) done.getNow()).closeWhenDone();
                promise.tryFailure(new IllegalStateException(peer + " chose HTTP/2 although it was not offered"));
            }
        });
        return promise;
    }

    /** A stream on a shared HTTP/2 connection with room for it; dials one (only one at a time) if none has. */
    private void acquireStream(Peer peer, PeerSessions peerSessions, EventLoop loop, UpstreamListener listener, Promise<UpstreamConnection> promise) {
        for (Http2Session session : peerSessions.live) {
            if (session.tryReserve()) {
                reuses.increment();
                session.openStream(listener, promise);
                return;
            }
        }
        Future<Object> dialing;
        boolean mine = false;
        synchronized (peerSessions) {
            dialing = peerSessions.dialing;
            if (dialing == null) {
                dialing = dial(peer, loop, false, peer.label(), null);
                peerSessions.dialing = dialing;
                mine = true;
            }
        }
        if (!mine) {
            // Another request is opening a connection: wait for it, then look again.
            dialing.addListener(done -> {
                if (!done.isSuccess()) {
                    promise.tryFailure(done.cause());
                } else if (peerSessions.speaksHttp1) {
                    connect(peer, loop, listener, false).addListener(f -> relay(f, promise));
                } else {
                    acquireStream(peer, peerSessions, loop, listener, promise);
                }
            });
            return;
        }
        Future<Object> dialed = dialing;
        dialed.addListener(done -> {
            synchronized (peerSessions) {
                peerSessions.dialing = null;
            }
            if (!done.isSuccess()) {
                promise.tryFailure(done.cause());
                return;
            }
            connects.increment();
            if (done.getNow() instanceof Http2Session session) {
                peerSessions.live.add(session);
                if (session.tryReserve()) {
                    session.openStream(listener, promise);
                } else {
                    acquireStream(peer, peerSessions, loop, listener, promise);
                }
            } else {
                // The peer chose HTTP/1.1 (proto "h2-or-h1"): remember, and use this connection.
                peerSessions.speaksHttp1 = true;
                UpstreamConnection connection = (UpstreamConnection) done.getNow();
                connection.attach(listener);
                if (!promise.trySuccess(connection)) {
                    connection.discard();
                }
            }
        });
    }

    private static void relay(Future<? super UpstreamConnection> from, Promise<UpstreamConnection> to) {
        if (from.isSuccess()) {
            to.trySuccess((UpstreamConnection) from.getNow());
        } else {
            to.tryFailure(from.cause());
        }
    }

    /** Opens a connection on {@code loop}: completes with its UpstreamConnection (HTTP/1.1) or Http2Session once usable. */
    private Future<Object> dial(Peer peer, EventLoop loop, boolean http1Only, String poolKey, io.netty.handler.codec.haproxy.HAProxyMessage header) {
        Promise<Object> result = loop.newPromise();
        dialsStarted.increment();
        long started = System.nanoTime();
        Peer.PeerTimeouts own = peer.timeouts();
        ChannelFuture connect = bootstrap.clone(loop).attr(PEER, peer).attr(HTTP1_ONLY, http1Only).attr(POOL_KEY, poolKey).attr(PROXY_HEADER, header)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, own.connectMs() > 0 ? own.connectMs() : connectTimeoutMs)
                .connect(peer.address());
        connect.addListener(done -> {
            Channel ch = connect.channel();
            if (!done.isSuccess()) {
                result.tryFailure(done.cause());
                ch.close();
                return;
            }
            io.netty.handler.codec.haproxy.HAProxyMessage proxyHeader = ch.attr(PROXY_HEADER).getAndSet(null);
            if (proxyHeader != null) {
                ProxyHeader.send(ch, proxyHeader);
            }
            // TLS and the HTTP/2 preface must follow within the connect timeout too, or the dial
            // (which other requests may be waiting for) would hang.
            Promise<Object> readiness = ch.attr(READY).get();
            long readyWithinNanos = own.totalConnectMs() > 0
                    ? TimeUnit.MILLISECONDS.toNanos(own.totalConnectMs()) - (System.nanoTime() - started)
                    : TimeUnit.MILLISECONDS.toNanos(connectTimeoutMs);
            var timeout = loop.schedule(() -> {
                if (readiness.tryFailure(new io.netty.channel.ConnectTimeoutException("no TLS handshake or HTTP/2 settings from " + peer + " in time"))) {
                    ch.close();
                }
            }, Math.max(0, readyWithinNanos), TimeUnit.NANOSECONDS);
            readiness.addListener(ready -> {
                timeout.cancel(false);
                if (ready.isSuccess()) {
                    result.trySuccess(ready.getNow());
                } else {
                    result.tryFailure(ready.cause());
                    ch.close();
                }
            });
        });
        return result;
    }

    private UpstreamConnection takeIdle(Peer peer, String key, EventLoop loop, boolean borrow) {
        IdleSet set = idle.get(key);
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
                if (c.usable() && !c.idleLongerThan(idleNanos(peer), clock.getAsLong())) {
                    return c;
                }
                c.discard();
            }
        }
        return null;
    }

    @Override
    public void release(UpstreamConnection connection) {
        java.util.Set<String> stillUsed = live;
        if (!connection.usable() || maxIdlePerPeer == 0 || (stillUsed != null && !stillUsed.contains(connection.peer().label()))) {
            connection.discard();
            return;
        }
        if (isClientAffine(connection.poolKey)) {
            // Parked under the map's lock: the sweeper drops a client's set once it is empty, and must
            // not drop it between our lookup and our offer.
            boolean[] parked = {false};
            idle.compute(connection.poolKey, (key, set) -> {
                IdleSet s = set != null ? set : new IdleSet(loops);
                parked[0] = park(s, connection);
                return s;
            });
            if (!parked[0]) {
                connection.discard();
            }
            return;
        }
        IdleSet set = idle.get(connection.poolKey);
        if (set == null) {
            set = idle.computeIfAbsent(connection.poolKey, a -> new IdleSet(loops));
        }
        if (!park(set, connection)) {
            connection.discard();
        }
    }

    /** Adds an idle connection to a set unless the set is full; returns whether it did. */
    private boolean park(IdleSet set, UpstreamConnection connection) {
        int idleNow;
        do {
            idleNow = set.count.get();
            if (idleNow >= maxIdlePerPeer) {
                return false;
            }
        } while (!set.count.compareAndSet(idleNow, idleNow + 1));
        Integer index = loopIndex.get(connection.channel().eventLoop());
        connection.detach(clock.getAsLong());
        set.byLoop[index == null ? 0 : index].offerLast(connection);
        return true;
    }

    /**
     * Closes idle connections that outlived the idle timeout. Runs periodically off the request
     * path, so that parking and taking a connection costs no timer operation.
     */
    void sweep() {
        long now = clock.getAsLong();
        for (PeerSessions peerSessions : sessions.values()) {
            for (Http2Session session : peerSessions.live) {
                if (!session.usable() || session.idleLongerThan(idleNanos(session.peer()), now)) {
                    peerSessions.live.remove(session);
                    session.closeWhenDone();
                }
            }
        }
        for (var e : idle.entrySet()) {
            IdleSet set = e.getValue();
            for (ConcurrentLinkedDeque<UpstreamConnection> deque : set.byLoop) {
                for (UpstreamConnection c : deque) {
                    if (c.idleLongerThan(idleNanos(c.peer()), now) && deque.remove(c)) {
                        set.count.decrementAndGet();
                        c.discard();
                    }
                }
            }
            if (isClientAffine(e.getKey())) {
                // One set per client connection: keep the map bounded by what is actually idle.
                idle.computeIfPresent(e.getKey(), (key, s) -> s.count.get() == 0 ? null : s);
            }
        }
    }

    /**
     * The key idle connections to a peer are filed under. A connection that began with a PROXY header
     * speaks for one client, so it is reused only for that client's (same address and port) requests.
     */
    private static String poolKey(Peer peer, UpstreamListener listener) {
        if (peer.proxyProtocol() == 0) {
            return peer.label();
        }
        java.net.InetSocketAddress client = listener.proxiedClient();
        return peer.label() + "|" + (client == null ? "local" : client.getAddress().getHostAddress() + ":" + client.getPort());
    }

    private static boolean isClientAffine(String poolKey) {
        return poolKey.indexOf('|') >= 0;
    }

    private static String labelOf(String poolKey) {
        int bar = poolKey.indexOf('|');
        return bar < 0 ? poolKey : poolKey.substring(0, bar);
    }

    /** How long an unused connection to the peer is kept: its connector's idle-timeout-ms, else the service's. */
    private long idleNanos(Peer peer) {
        int own = peer.timeouts().idleMs();
        return own > 0 ? TimeUnit.MILLISECONDS.toNanos(own) : idleTimeoutNanos;
    }

    /** Drops a connection that died while idle. */
    @Override
    public void forget(UpstreamConnection connection) {
        IdleSet set = idle.get(connection.poolKey);
        if (set != null) {
            for (ConcurrentLinkedDeque<UpstreamConnection> deque : set.byLoop) {
                if (deque.remove(connection)) {
                    set.count.decrementAndGet();
                }
            }
        }
        connection.channel().close();
    }

    /**
     * Keeps connections only to these peers (discovery removed the others): idle connections to the
     * others close now, busy ones when their request ends, HTTP/2 ones when their last stream ends.
     */
    public void retainOnly(java.util.Set<String> labels) {
        live = java.util.Set.copyOf(labels);
        for (var e : idle.entrySet()) {
            if (!labels.contains(labelOf(e.getKey()))) {
                for (ConcurrentLinkedDeque<UpstreamConnection> deque : e.getValue().byLoop) {
                    UpstreamConnection c;
                    while ((c = deque.pollFirst()) != null) {
                        e.getValue().count.decrementAndGet();
                        c.discard();
                    }
                }
            }
        }
        // Forget removed peers altogether, so that a server set churning for months keeps the maps
        // small. (A connection released to a removed peer's set at this very moment closes when the
        // origin closes it.)
        idle.keySet().removeIf(key -> !labels.contains(labelOf(key)));
        for (var e : sessions.entrySet()) {
            if (!labels.contains(e.getKey())) {
                e.getValue().live.forEach(Http2Session::closeWhenDone);
                e.getValue().live.clear();
            }
        }
        sessions.keySet().removeIf(label -> !labels.contains(label));
    }

    /** Connections opened so far. */
    public long connects() {
        return connects.sum();
    }

    /** Connection attempts so far, including those that failed. */
    long dialsStarted() {
        return dialsStarted.sum();
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
        for (PeerSessions peerSessions : sessions.values()) {
            peerSessions.live.forEach(Http2Session::closeWhenDone);
            peerSessions.live.clear();
        }
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

    private void countOpen(UpstreamConnection connection) {
        openHttp1.incrementAndGet();
        connection.channel().closeFuture().addListener(f -> openHttp1.decrementAndGet());
    }

    /** HTTP/1.1 connections open now, idle or serving a request. */
    public int openHttp1Connections() {
        return openHttp1.get();
    }

    /** Streams open now on this pool's HTTP/2 connections, by peer label. */
    public java.util.Map<String, Integer> http2StreamsByPeer() {
        java.util.Map<String, Integer> streams = new java.util.TreeMap<>();
        for (Map.Entry<String, PeerSessions> e : sessions.entrySet()) {
            int n = 0;
            for (Http2Session session : e.getValue().live) {
                n += session.openStreams();
            }
            if (!e.getValue().live.isEmpty()) {
                streams.put(e.getKey(), n);
            }
        }
        return streams;
    }

    /** Open HTTP/2 connections now held, for all peers. */
    public int http2Connections() {
        int n = 0;
        for (PeerSessions s : sessions.values()) {
            n += s.live.size();
        }
        return n;
    }

    /** The HTTP/2 connections to one peer. */
    private static final class PeerSessions {
        final CopyOnWriteArrayList<Http2Session> live = new CopyOnWriteArrayList<>();
        /** The connection being opened, if any; guarded by this. */
        Future<Object> dialing;
        /** The peer chose HTTP/1.1 through ALPN; its requests use the HTTP/1.1 pool. */
        volatile boolean speaksHttp1;
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
