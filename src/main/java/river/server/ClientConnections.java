package river.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Every client connection a server has admitted and not yet seen close, each held once with what it is
 * counted against (its {@link Tenancy}: the configuration generation serving it and its service's
 * {@link ConnectionLimiter}). The server drains and closes them from here at shutdown and upgrade, a
 * generation drains its own on reload, the limiter looks here for an idle one to reclaim at its cap,
 * and the metrics count them by protocol.
 *
 * <p>One map and one close listener per connection, shared by all: an idle keep-alive connection is
 * held by the thousands, and three sets of it with a listener each cost about 200 B per connection.
 */
public final class ClientConnections implements Iterable<Channel> {
    /**
     * What a connection is counted against until it closes. One instance is shared by every connection
     * of a generation's service whose address is not counted; a connection counted per address has its
     * own, which carries the address to uncount.
     */
    public static final class Tenancy {
        private final Object owner;
        private final ConnectionLimiter limiter;
        private final InetAddress address;
        private final Runnable ended;

        /**
         * @param owner what serves the connection (its generation), for {@link #forEachOf}
         * @param ended called once when a connection of this tenancy has closed (the owner's count)
         */
        public Tenancy(Object owner, ConnectionLimiter limiter, Runnable ended) {
            this(owner, limiter, null, ended);
        }

        private Tenancy(Object owner, ConnectionLimiter limiter, InetAddress address, Runnable ended) {
            this.owner = owner;
            this.limiter = limiter;
            this.address = address;
            this.ended = ended;
        }

        /** The same, for one connection whose address the limiter counted. */
        Tenancy countedFrom(InetAddress counted) {
            return new Tenancy(owner, limiter, counted, ended);
        }
    }

    private final ConcurrentHashMap<Channel, Tenancy> open = new ConcurrentHashMap<>();
    /** Runs on the connection's loop when it closes; the map entry's removal makes it run at most once. */
    private final ChannelFutureListener closed = f -> {
        Tenancy t = open.remove(f.channel());
        if (t != null) {
            t.limiter.closed(t.address);
            t.ended.run();
        }
    };

    /** Holds an admitted connection until it closes (if it has closed already, its tenancy ends now). */
    void add(Channel connection, Tenancy tenancy) {
        open.put(connection, tenancy);
        connection.closeFuture().addListener(closed);
    }

    /** Closes the first connection of {@code limiter} other than {@code except} that {@code reclaimIfIdle} takes; whether one did. */
    boolean reclaimOne(ConnectionLimiter limiter, Channel except, Predicate<Channel> reclaimIfIdle) {
        for (Map.Entry<Channel, Tenancy> e : open.entrySet()) {
            if (e.getValue().limiter == limiter && e.getKey() != except && reclaimIfIdle.test(e.getKey())) {
                return true;
            }
        }
        return false;
    }

    /** Calls {@code action} with every open connection {@code owner} serves. */
    public void forEachOf(Object owner, Consumer<Channel> action) {
        open.forEach((ch, t) -> {
            if (t.owner == owner) {
                action.accept(ch);
            }
        });
    }

    /** Open connections {@code owner} serves (counted through the whole map: for logs and metrics, not the data path). */
    public int countOf(Object owner) {
        int n = 0;
        for (Tenancy t : open.values()) {
            if (t.owner == owner) {
                n++;
            }
        }
        return n;
    }

    /** Open connections. */
    public int size() {
        return open.size();
    }

    @Override
    public Iterator<Channel> iterator() {
        return open.keySet().iterator();
    }

    /**
     * Closes the connections {@code owner} serves (every one when null) and waits up to {@code timeoutMs}
     * in all for them to have closed.
     */
    public void close(Object owner, long timeoutMs) {
        List<Channel> closing = new ArrayList<>();
        open.forEach((ch, t) -> {
            if (owner == null || t.owner == owner) {
                closing.add(ch);
                ch.close();
            }
        });
        awaitClosed(closing, timeoutMs);
    }

    /** Waits up to {@code timeoutMs} for every connection open now to close; whether all did. */
    public boolean awaitAllClosed(long timeoutMs) {
        return awaitClosed(new ArrayList<>(open.keySet()), timeoutMs);
    }

    private static boolean awaitClosed(List<Channel> channels, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Channel ch : channels) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0 || !ch.closeFuture().awaitUninterruptibly(left)) {
                return false;
            }
        }
        return true;
    }
}
