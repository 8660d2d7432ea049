package river.upstream;

import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A {@link ConnectionSource} for state-machine tests: every connect is a promise the test completes
 * ({@link #succeedNext}, {@link #failNext}), every connection an {@link EmbeddedChannel} whose inbound
 * side the test writes the origin's messages to and whose outbound side holds what River sent.
 */
public final class EmbeddedUpstreams implements ConnectionSource, UpstreamConnection.Home {
    private final Deque<Pending> pending = new ArrayDeque<>();
    private final Deque<UpstreamConnection> idle = new ArrayDeque<>();
    public final List<UpstreamConnection> released = new ArrayList<>();
    public final List<UpstreamConnection> forgotten = new ArrayList<>();
    public final List<EmbeddedChannel> channels = new ArrayList<>();

    private record Pending(Peer peer, UpstreamListener listener, Promise<UpstreamConnection> promise) {}

    @Override
    public UpstreamConnection takeIdle(Peer peer, EventLoop loop, UpstreamListener listener, boolean borrow) {
        UpstreamConnection c = idle.poll();
        if (c != null) {
            c.attach(listener);
        }
        return c;
    }

    @Override
    public Future<UpstreamConnection> connect(Peer peer, EventLoop loop, UpstreamListener listener, boolean http1Only) {
        Promise<UpstreamConnection> promise = ImmediateEventExecutor.INSTANCE.newPromise();
        pending.add(new Pending(peer, listener, promise));
        return promise;
    }

    /** How many connects are waiting for the test's answer. */
    public int connectsPending() {
        return pending.size();
    }

    /** The peer the oldest pending connect is for. */
    public Peer pendingPeer() {
        return pending.peek().peer();
    }

    /** Completes the oldest pending connect with a new embedded connection; returns its channel. */
    public EmbeddedChannel succeedNext() {
        Pending p = pending.poll();
        UpstreamConnection c = newConnection(p.peer());
        c.attach(p.listener());
        p.promise().setSuccess(c);
        return (EmbeddedChannel) c.channel();
    }

    /** Fails the oldest pending connect. */
    public void failNext(Throwable cause) {
        pending.poll().promise().setFailure(cause);
    }

    /** Parks a connection that has served a request before, for the next takeIdle; returns its channel. */
    public EmbeddedChannel addIdle(Peer peer) {
        UpstreamConnection c = newConnection(peer);
        c.attach(null); // one earlier use: the next attach makes it "reused"
        idle.add(c);
        return (EmbeddedChannel) c.channel();
    }

    private UpstreamConnection newConnection(Peer peer) {
        EmbeddedChannel ch = new EmbeddedChannel();
        UpstreamConnection c = new UpstreamConnection(ch, peer, this);
        ch.pipeline().addLast("forward", c.new EventForwarder());
        channels.add(ch);
        return c;
    }

    @Override
    public void release(UpstreamConnection connection) {
        released.add(connection);
    }

    @Override
    public void forget(UpstreamConnection connection) {
        forgotten.add(connection);
    }

    /** Closes every channel and releases what is still queued in them. */
    public void closeAll() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }
}
