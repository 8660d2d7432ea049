package river.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.balance.PeerHealth;
import river.balance.UpstreamGroup;
import river.upstream.Peer;

/**
 * Active health checks for one upstream group: every {@code frequency-ms} each server is checked
 * (one after another, or all at once with {@code parallel}), with non-blocking connections on one
 * event loop of the service. A round that is still running when the next is due makes that one
 * skip, so checks never pile up; a check is bounded by {@code timeout-ms}.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final UpstreamGroup group;
    private final CheckSpec spec;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    /** The TLS context to check a peer with: its own when it has TLS, else a verifying default. */
    private final Function<Peer, SslContext> tlsFor;
    private final AtomicBoolean roundRunning = new AtomicBoolean();
    /** Kept-open check connections by peer label ({@code reuse-connection=true}); bounded by the group's size. */
    private final Map<String, Channel> reusable = new ConcurrentHashMap<>();
    private final Promise<Void> firstRound;
    private ScheduledFuture<?> schedule;
    private volatile boolean closed;

    public HealthChecker(UpstreamGroup group, CheckSpec spec, EventLoop loop, Class<? extends Channel> channelType,
            Function<Peer, SslContext> tlsFor) {
        this.group = group;
        this.spec = spec;
        this.loop = loop;
        this.tlsFor = tlsFor;
        this.firstRound = loop.newPromise();
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, spec.timeoutMs())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {}
                });
    }

    /** Starts the schedule with an immediate first round; the future completes when that round ends. */
    public Future<Void> start() {
        loop.execute(this::round);
        schedule = loop.scheduleWithFixedDelay(this::round, spec.frequencyMs(), spec.frequencyMs(), TimeUnit.MILLISECONDS);
        return firstRound;
    }

    /** Whether the first round has ended (every server checked once, passed or failed), for readiness. */
    public boolean firstRoundDone() {
        return firstRound.isDone();
    }

    /** Runs a round now (after the server set changed), unless one is already running. */
    public void checkNow() {
        loop.execute(this::round);
    }

    private void round() {
        if (closed || !roundRunning.compareAndSet(false, true)) {
            return; // the previous round is still going: skip rather than pile up
        }
        List<Peer> peers = group.peers();
        reusable.keySet().retainAll(peers.stream().map(Peer::label).toList());
        if (peers.isEmpty()) {
            endRound();
            return;
        }
        if (spec.parallel()) {
            int[] left = {peers.size()};
            for (Peer p : peers) {
                check(p).addListener(f -> {
                    if (--left[0] == 0) {
                        endRound();
                    }
                });
            }
        } else {
            checkInTurn(peers, 0);
        }
    }

    private void checkInTurn(List<Peer> peers, int i) {
        if (i == peers.size() || closed) {
            endRound();
            return;
        }
        check(peers.get(i)).addListener(f -> checkInTurn(peers, i + 1));
    }

    private void endRound() {
        roundRunning.set(false);
        firstRound.trySuccess(null);
    }

    /** Checks one peer and records the result; the future completes (on {@link #loop}) when it is known. */
    private Future<Boolean> check(Peer peer) {
        Promise<Boolean> result = loop.newPromise();
        ScheduledFuture<?> timeout = loop.schedule(() -> result.trySuccess(false), spec.timeoutMs(), TimeUnit.MILLISECONDS);
        result.addListener(f -> {
            timeout.cancel(false);
            record(peer, Boolean.TRUE.equals(f.getNow()));
        });
        try {
            if (spec.kind() == CheckSpec.Kind.HTTP) {
                httpCheck(peer, result);
            } else {
                tcpCheck(peer, result);
            }
        } catch (RuntimeException e) {
            LOG.debug("health check of {} could not start", peer, e);
            result.trySuccess(false);
        }
        return result;
    }

    private void record(Peer peer, boolean passed) {
        PeerHealth health = group.health(peer);
        if (health != null && health.recordCheck(passed, spec.failuresToEject(), spec.successesToAdmit())) {
            if (passed) {
                LOG.info("{}: {} passed its health checks; it gets traffic", group.name(), peer);
            } else {
                LOG.warn("{}: {} failed {} health check(s) in a row; it gets no traffic until it passes again", group.name(), peer,
                        spec.failuresToEject());
            }
        }
    }

    private InetSocketAddress target(Peer peer) {
        return spec.port() > 0 ? new InetSocketAddress(peer.address().getAddress(), spec.port()) : peer.address();
    }

    private ChannelFuture open(Peer peer, Promise<Boolean> result, String sni) {
        ChannelFuture connect = bootstrap.clone().connect(target(peer));
        Channel ch = connect.channel();
        result.addListener(f -> {
            if (!spec.reuseConnection() || !Boolean.TRUE.equals(f.getNow())) {
                ch.close();
            }
        });
        if (sni != null) {
            SslHandler tls = tlsFor.apply(peer).newHandler(ch.alloc(), sni, target(peer).getPort());
            ch.pipeline().addLast("tls", tls);
        }
        return connect;
    }

    private void tcpCheck(Peer peer, Promise<Boolean> result) {
        ChannelFuture connect = open(peer, result, spec.tlsSni());
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                result.trySuccess(false);
                return;
            }
            SslHandler tls = connect.channel().pipeline().get(SslHandler.class);
            if (tls == null) {
                result.trySuccess(true);
            } else {
                tls.handshakeFuture().addListener(h -> result.trySuccess(h.isSuccess()));
            }
        });
    }

    private void httpCheck(Peer peer, Promise<Boolean> result) {
        Channel kept = spec.reuseConnection() ? reusable.get(peer.label()) : null;
        if (kept != null && kept.isActive()) {
            kept.pipeline().get(StatusReader.class).expect(result);
            // A failed or timed-out check leaves the connection in an unknown state: start afresh.
            result.addListener(f -> {
                if (!Boolean.TRUE.equals(f.getNow())) {
                    kept.close();
                }
            });
            sendRequest(kept);
            return;
        }
        reusable.remove(peer.label());
        ChannelFuture connect = open(peer, result, spec.tls() ? spec.host() : null);
        Channel ch = connect.channel();
        StatusReader reader = new StatusReader(spec.expectStatus());
        reader.expect(result);
        ch.pipeline().addLast("http", new HttpClientCodec()).addLast("status", reader);
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                result.trySuccess(false);
                return;
            }
            if (spec.reuseConnection()) {
                reusable.put(peer.label(), ch);
                ch.closeFuture().addListener(f -> reusable.remove(peer.label(), ch));
            }
            sendRequest(ch);
        });
    }

    private void sendRequest(Channel ch) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, spec.path());
        request.headers()
                .set(HttpHeaderNames.HOST, spec.host())
                .set(HttpHeaderNames.USER_AGENT, "river-health-check")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (!spec.reuseConnection()) {
            request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ch.writeAndFlush(request).addListener(w -> {
            if (!w.isSuccess()) {
                ch.close();
            }
        });
    }

    /** Reads the response status of the current check; the whole response is consumed before the next. */
    private static final class StatusReader extends SimpleChannelInboundHandler<HttpObject> {
        private final int expected;
        private Promise<Boolean> current;

        StatusReader(int expected) {
            this.expected = expected;
        }

        void expect(Promise<Boolean> result) {
            current = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse response && current != null && response.status().code() >= 200) {
                current.trySuccess(response.status().code() == expected);
            }
            if (msg instanceof LastHttpContent && current != null && current.isDone()) {
                current = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (current != null) {
                current.trySuccess(false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (current != null) {
                current.trySuccess(false);
            }
            ctx.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        if (schedule != null) {
            schedule.cancel(false);
        }
        reusable.values().forEach(Channel::close);
        reusable.clear();
    }
}
