package river.upstream;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Where an exchange gets its upstream connections: the service's {@link ConnectionPool} in River, an
 * in-memory source in the engine's state-machine tests.
 */
public interface ConnectionSource {

    /**
     * An idle connection to {@code peer} now attached to {@code listener}, or null when there is none:
     * one of {@code loop}'s own, or, when {@code borrow}, one of another loop's.
     */
    UpstreamConnection takeIdle(Peer peer, EventLoop loop, UpstreamListener listener, boolean borrow);

    /**
     * A new connection (or, for an HTTP/2 peer, a new stream) to {@code peer}, opened on {@code loop}
     * and attached to {@code listener}; {@code http1Only} for a request that will switch protocols.
     */
    Future<UpstreamConnection> connect(Peer peer, EventLoop loop, UpstreamListener listener, boolean http1Only);
}
