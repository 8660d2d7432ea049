package river.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool's idle side on embedded channels with a clock the test moves: parking, reuse, the bound
 * per peer, expiry by the sweep and at take time, connections that die or talk while idle, and peers
 * removed by discovery. Nothing here waits for time.
 */
class ConnectionPoolIdleTest {
    private static final Peer A = Peer.of("127.0.0.1", 9101, 1);
    private static final Peer B = Peer.of("127.0.0.2", 9102, 1);
    private static final long IDLE_MS = 60_000;

    private final EmbeddedChannel loopOwner = new EmbeddedChannel();
    private long now = 1_000_000_000L;
    private final ConnectionPool pool = new ConnectionPool(loopOwner.eventLoop(), NioSocketChannel.class, 1_000, 2, IDLE_MS, 16_384,
            () -> now);
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final Listener listener = new Listener();

    @AfterEach
    void closeAll() {
        pool.closeIdle();
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        loopOwner.finishAndReleaseAll();
    }

    @Test
    void releasedConnectionIsTakenAgainAsReused() {
        UpstreamConnection c = borrowed(A);
        c.release();
        assertThat(pool.idleCount()).isEqualTo(1);

        UpstreamConnection again = pool.takeIdle(A, loopOwner.eventLoop(), listener, true);
        assertThat(again).isSameAs(c);
        assertThat(again.reused()).isTrue();
        assertThat(pool.idleCount()).isZero();
        assertThat(pool.takeIdle(B, loopOwner.eventLoop(), listener, true)).as("another peer's connection is never handed out").isNull();
    }

    @Test
    void idleConnectionsPerPeerAreBounded() {
        UpstreamConnection first = borrowed(A);
        UpstreamConnection second = borrowed(A);
        UpstreamConnection third = borrowed(A);
        first.release();
        second.release();
        third.release();
        assertThat(pool.idleCount()).isEqualTo(2);
        assertThat(third.channel().isActive()).as("the one over the bound is closed").isFalse();
    }

    @Test
    void sweepClosesOnlyConnectionsPastTheIdleTimeout() {
        UpstreamConnection old = borrowed(A);
        old.release();
        now += TimeUnit.MILLISECONDS.toNanos(IDLE_MS / 2);
        UpstreamConnection young = borrowed(A);
        young.release();

        now += TimeUnit.MILLISECONDS.toNanos(IDLE_MS / 2) + 1;
        pool.sweep();
        assertThat(old.channel().isActive()).isFalse();
        assertThat(young.channel().isActive()).isTrue();
        assertThat(pool.idleCount()).isEqualTo(1);
    }

    @Test
    void connectionPastTheIdleTimeoutIsNotTakenEvenBeforeTheSweep() {
        UpstreamConnection c = borrowed(A);
        c.release();
        now += TimeUnit.MILLISECONDS.toNanos(IDLE_MS) + 1;
        assertThat(pool.takeIdle(A, loopOwner.eventLoop(), listener, true)).isNull();
        assertThat(c.channel().isActive()).isFalse();
    }

    @Test
    void connectionTheOriginClosesWhileIdleIsForgotten() {
        UpstreamConnection c = borrowed(A);
        c.release();
        c.channel().pipeline().fireChannelInactive();
        assertThat(pool.idleCount()).isZero();
        assertThat(pool.takeIdle(A, loopOwner.eventLoop(), listener, true)).isNull();
    }

    @Test
    void originTalkingOnAnIdleConnectionGetsItDropped() {
        UpstreamConnection c = borrowed(A);
        c.release();
        ((EmbeddedChannel) c.channel()).writeInbound(Unpooled.copiedBuffer(new byte[] {'x'}));
        assertThat(pool.idleCount()).isZero();
        assertThat(c.channel().isActive()).isFalse();
    }

    @Test
    void brokenConnectionIsNeverParked() {
        UpstreamConnection c = borrowed(A);
        c.channel().pipeline().fireExceptionCaught(new java.io.IOException("reset"));
        c.release();
        assertThat(pool.idleCount()).isZero();
        assertThat(listener.failures).as("the borrower heard of it").isPositive();
    }

    @Test
    void peersRemovedByDiscoveryLoseTheirIdleConnectionsAndNeverGetNewOnes() {
        UpstreamConnection toA = borrowed(A);
        UpstreamConnection toB = borrowed(B);
        toA.release();
        pool.retainOnly(Set.of(B.label()));
        assertThat(toA.channel().isActive()).isFalse();
        UpstreamConnection lateA = borrowed(A);
        lateA.release();
        assertThat(lateA.channel().isActive()).as("released after its peer was removed: closed").isFalse();
        toB.release();
        assertThat(pool.idleCount()).isEqualTo(1);
    }

    /** A connection as an exchange holds it: attached, on an embedded channel. */
    private UpstreamConnection borrowed(Peer peer) {
        EmbeddedChannel ch = new EmbeddedChannel();
        channels.add(ch);
        UpstreamConnection c = new UpstreamConnection(ch, peer, pool);
        ch.pipeline().addLast("forward", c.new EventForwarder());
        c.attach(listener);
        return c;
    }

    private static final class Listener implements UpstreamListener {
        int failures;

        @Override
        public void onUpstreamMessage(UpstreamConnection connection, HttpObject message) {
            ReferenceCountUtil.release(message);
        }

        @Override
        public void onUpstreamFailure(UpstreamConnection connection, Throwable cause) {
            failures++;
        }

        @Override
        public void onUpstreamWritabilityChanged(UpstreamConnection connection, boolean writable) {}
    }
}
