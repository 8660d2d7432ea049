package river.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.NginxOrigin;
import river.testsupport.TestPki;

/**
 * The shared pool over TLS against real origins (four nginx servers, each logging one line per new
 * connection with whether its TLS handshake resumed a session): a connection released on one event
 * loop serves the other loop's next request, a second connection to an origin resumes the first
 * one's session instead of a full handshake, and many requests from both loops to all four origins
 * open no more connections than were ever in use at once.
 */
class ConnectionPoolTlsTest {
    private static final int ORIGINS = 4;
    @TempDir
    static Path dir;
    private static final List<NginxOrigin> origins = new ArrayList<>();
    private static final List<Path> connectionLogs = new ArrayList<>();

    private MultiThreadIoEventLoopGroup group;
    private ConnectionPool pool;
    private final List<Peer> peers = new ArrayList<>();
    /** Log lines each origin had before the test, so that each test counts only its own connections. */
    private final List<Integer> linesBefore = new ArrayList<>();
    /** Requests holding or acquiring a connection to each origin now, and the most there ever were. */
    private final AtomicInteger[] inUse = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
    private final AtomicInteger[] peakInUse = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};

    @BeforeAll
    static void startOrigins() throws Exception {
        TestPki.Pair cert = TestPki.server("origin.test");
        for (int i = 0; i < ORIGINS; i++) {
            Path log = dir.resolve("conns-" + i + ".log");
            connectionLogs.add(log);
            origins.add(new NginxOrigin(dir, """
                    map $connection_requests $first_request { 1 1; default 0; }
                    log_format conn '$server_port $ssl_session_reused $ssl_protocol';
                    server {
                        listen 127.0.0.1:%%PORT%% ssl;
                        ssl_certificate %s;
                        ssl_certificate_key %s;
                        ssl_protocols TLSv1.2 TLSv1.3;
                        ssl_session_cache shared:origin:1m;
                        keepalive_requests 100000;
                        access_log %s conn if=$first_request;
                        location / { return 200 "ok\\n"; }
                    }
                    """.formatted(cert.cert(), cert.key(), log)));
        }
    }

    @AfterAll
    static void stopOrigins() throws InterruptedException {
        for (NginxOrigin o : origins) {
            o.close();
        }
    }

    @BeforeEach
    void startPool() throws Exception {
        // A context per test: its session cache starts empty, so each test sees its own first handshakes.
        io.netty.handler.ssl.SslContext client = UpstreamTls.clientContext(TestPki.caCertificate(), true, UpstreamTls.Offer.HTTP1_ONLY);
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        pool = new ConnectionPool(group, NioSocketChannel.class, 5_000, 128, 60_000, 16_384);
        UpstreamTls tls = new UpstreamTls(client, client, UpstreamTls.Offer.HTTP1_ONLY, "origin.test", true);
        for (NginxOrigin o : origins) {
            peers.add(Peer.of(InetAddress.getLoopbackAddress(), o.port(), 1, tls, 0, Peer.PeerTimeouts.NONE));
        }
        for (Path log : connectionLogs) {
            linesBefore.add(lines(log).size());
        }
    }

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.closeIdle();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    @Test
    void connectionReleasedOnOneLoopServesTheOtherLoopsNextRequest() throws Exception {
        EventLoop[] loops = loops();
        assertThat(get(peers.get(0), loops[0]).get(10, TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(get(peers.get(0), loops[1]).get(10, TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(pool.connects()).isEqualTo(1);
        assertThat(pool.reuses()).isEqualTo(1);
        assertThat(newConnections().get(0)).hasSize(1);
    }

    @Test
    void secondConnectionToAnOriginResumesTheFirstOnesSession() throws Exception {
        EventLoop[] loops = loops();
        Peer peer = peers.get(1);
        assertThat(get(peer, loops[0]).get(10, TimeUnit.SECONDS)).isEqualTo(200);
        // Two requests at once: the idle connection serves one, the other needs a new connection.
        Held first = hold(peer, loops[0]);
        CompletableFuture<Integer> second = get(peer, loops[1]);
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(200);
        first.release();
        assertThat(pool.connects()).isEqualTo(2);
        List<String> opened = newConnections().get(1);
        assertThat(opened).hasSize(2);
        assertThat(opened.get(0)).as("the first handshake is a full one").contains(" . ");
        assertThat(opened.get(1)).as("the second resumes its session").contains(" r ");
    }

    @Test
    void manyRequestsOverTwoLoopsToFourOriginsOpenOnlyTheConnectionsInUseAtOnce() throws Exception {
        EventLoop[] loops = loops();
        int chains = 8;
        int perChain = 50;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        for (int c = 0; c < chains; c++) {
            done.add(chain(loops[c % 2], c, perChain, failures));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(failures).hasValue(0);
        assertThat(pool.reuses()).isEqualTo(chains * perChain - pool.connects());
        List<List<String>> opened = newConnections();
        for (int i = 0; i < ORIGINS; i++) {
            // A connection is dialled only when every open one to that origin is in use: never more
            // than were in use at once, whichever loop a request came from.
            assertThat(opened.get(i)).as("origin %d: connections opened, at most %d in use at once", i, peakInUse[i].get())
                    .hasSizeBetween(1, peakInUse[i].get());
        }
        // Connections dialled to an origin after its first handshake resume that session (those
        // dialled at the same moment as the first cannot: there is nothing to resume yet).
        assertThat(opened.stream().flatMap(List::stream).filter(l -> l.contains(" r "))).isNotEmpty();
    }

    /** {@code n} requests one after another on {@code loop}, round robin over the origins from {@code first}. */
    private CompletableFuture<Void> chain(EventLoop loop, int first, int n, AtomicInteger failures) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger sent = new AtomicInteger();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            int i = sent.getAndIncrement();
            if (i == n) {
                done.complete(null);
                return;
            }
            get(peers.get((first + i) % ORIGINS), loop).whenComplete((status, error) -> {
                if (error != null || status != 200) {
                    failures.incrementAndGet();
                }
                loop.execute(next[0]);
            });
        };
        loop.execute(next[0]);
        return done;
    }

    /** One GET through the pool, from {@code loop}; completes with the status once the response ended and the connection went back. */
    private CompletableFuture<Integer> get(Peer peer, EventLoop loop) {
        Exchange exchange = new Exchange(true);
        loop.execute(() -> exchange.start(peer, loop));
        return exchange.status;
    }

    /** A request whose response is read but whose connection is kept until {@link Held#release}. */
    private Held hold(Peer peer, EventLoop loop) throws Exception {
        Exchange exchange = new Exchange(false);
        loop.execute(() -> exchange.start(peer, loop));
        exchange.status.get(10, TimeUnit.SECONDS);
        return exchange::release;
    }

    private interface Held {
        void release();
    }

    /** The borrower's side of one request: what the proxy engine does, reduced to a GET. */
    private final class Exchange implements UpstreamListener {
        final CompletableFuture<Integer> status = new CompletableFuture<>();
        private final boolean releaseAtEnd;
        private volatile UpstreamConnection connection;
        private int code;
        private int origin;

        Exchange(boolean releaseAtEnd) {
            this.releaseAtEnd = releaseAtEnd;
        }

        void start(Peer peer, EventLoop loop) {
            origin = peers.indexOf(peer);
            peakInUse[origin].accumulateAndGet(inUse[origin].incrementAndGet(), Math::max);
            UpstreamConnection idle = pool.takeIdle(peer, loop, this);
            if (idle != null) {
                send(idle);
                return;
            }
            Future<UpstreamConnection> connecting = pool.connect(peer, loop, this, false);
            connecting.addListener(f -> {
                if (f.isSuccess()) {
                    send(connecting.getNow());
                } else {
                    status.completeExceptionally(f.cause());
                }
            });
        }

        private void send(UpstreamConnection c) {
            connection = c;
            DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            request.headers().set(HttpHeaderNames.HOST, "origin.test");
            c.channel().writeAndFlush(request, c.channel().voidPromise());
        }

        void release() {
            connection.release();
            inUse[origin].decrementAndGet();
        }

        @Override
        public void onUpstreamMessage(UpstreamConnection c, HttpObject message) {
            if (message instanceof HttpResponse response) {
                code = response.status().code();
            }
            boolean last = message instanceof LastHttpContent;
            ReferenceCountUtil.release(message);
            if (last) {
                if (releaseAtEnd) {
                    c.release();
                    inUse[origin].decrementAndGet();
                }
                status.complete(code);
            }
        }

        @Override
        public void onUpstreamFailure(UpstreamConnection c, Throwable cause) {
            status.completeExceptionally(cause);
        }

        @Override
        public void onUpstreamWritabilityChanged(UpstreamConnection c, boolean writable) {}
    }

    private EventLoop[] loops() {
        EventLoop a = group.next();
        EventLoop b = group.next();
        assertThat(b).isNotSameAs(a);
        return new EventLoop[] {a, b};
    }

    /**
     * The lines each origin logged for connections opened during this test: one per connection, written
     * when its first request is answered; waits until they match the connections the pool opened.
     */
    private List<List<String>> newConnections() throws Exception {
        Eventually.await(() -> {
            long n = 0;
            for (int i = 0; i < ORIGINS; i++) {
                n += lines(connectionLogs.get(i)).size() - linesBefore.get(i);
            }
            return n == pool.connects();
        }, 10_000);
        List<List<String>> opened = new ArrayList<>();
        for (int i = 0; i < ORIGINS; i++) {
            List<String> all = lines(connectionLogs.get(i));
            opened.add(all.subList(linesBefore.get(i), all.size()));
        }
        return opened;
    }

    private static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log) : List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
