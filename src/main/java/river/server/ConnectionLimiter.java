package river.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.ClientLimits;

/**
 * A service's connection limits, applied as each connection is accepted: per client address (how many
 * at once, how many new ones a second) and for the whole service ({@code max-connections}).
 *
 * <p>A connection over a per-address limit is reset at once, before any TLS or HTTP work, as
 * {@code connection-filters} do: the client is the one overdoing it. The service cap is graceful, as
 * HAProxy's {@code maxconn}: reaching it stops accepting on every listener of the service, so new
 * connections wait in the kernel's listen backlog (and past it, their SYNs are retried by the client's
 * TCP) and are accepted as soon as a connection closes; nothing already accepted is refused. Only a
 * connection the kernel handed over in the same accept batch as the one that reached the cap is over
 * it; that one is closed without a byte, which HTTP clients may retry.
 */
public final class ConnectionLimiter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimiter.class);
    /** Addresses tracked before the table is swept; far above what a service holds with the default cap. */
    private static final int MAX_TRACKED_ADDRESSES = 100_000;

    private final String service;
    private final int maxConnections;
    private final AddressLimits perAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder refusedPerAddress = new LongAdder();
    private final LongAdder refusedOverCap = new LongAdder();
    private final LongAdder pauses = new LongAdder();
    private final LongAdder reclaimed = new LongAdder();
    /** Closes a connection if it is an idle keep-alive one, and says whether it was; none: never reclaim. */
    private volatile java.util.function.Predicate<Channel> reclaimer;

    ConnectionLimiter(String service, ClientLimits limits, LongSupplier nanoClock) {
        this.service = service;
        this.maxConnections = limits.maxConnections();
        this.perAddress = limits.perAddress()
                ? new AddressLimits(limits.maxConnectionsPerAddress(), limits.maxConnectionRatePerAddress(), MAX_TRACKED_ADDRESSES, nanoClock)
                : null;
    }

    public static ConnectionLimiter of(String service, ClientLimits limits) {
        return new ConnectionLimiter(service, limits, System::nanoTime);
    }

    /**
     * How to make room at the cap: {@code reclaimIfIdle} closes a connection that is an idle keep-alive
     * one (and returns true), as nginx reuses keep-alive connections when it runs out of them.
     */
    public ConnectionLimiter reclaimingIdle(java.util.function.Predicate<Channel> reclaimIfIdle) {
        this.reclaimer = reclaimIfIdle;
        return this;
    }

    /** A listening channel of the service, paused and resumed with the cap. */
    public void listening(Channel listener) {
        listeners.add(listener);
    }

    /**
     * Stops pausing and resuming the listeners it was given: a reload handed them to another limiter.
     * The connections it admitted are still counted until they close.
     */
    public void forgetListeners() {
        listeners.clear();
    }

    /**
     * Whether a just-accepted connection may be served; a refused one is closed here. An admitted one is
     * held in {@code connections} with {@code tenancy} and counted here until it closes.
     *
     * @param byAddress whether per-address limits apply (not behind a PROXY protocol balancer, whose
     *     address is every client's)
     * @param tenancy what the connection is counted against besides this limiter, whose limiter is this one
     */
    public boolean admit(Channel connection, boolean byAddress, ClientConnections connections, ClientConnections.Tenancy tenancy) {
        InetAddress address = byAddress && perAddress != null && connection.remoteAddress() instanceof InetSocketAddress inet
                ? inet.getAddress() : null;
        AddressLimits.Admission admission = address == null ? AddressLimits.Admission.UNTRACKED : perAddress.open(address);
        if (admission == AddressLimits.Admission.TOO_MANY || admission == AddressLimits.Admission.TOO_FAST) {
            refusedPerAddress.increment();
            LOG.debug("refusing a connection from {}: {}", address, admission);
            connection.config().setOption(ChannelOption.SO_LINGER, 0);
            connection.close();
            return false;
        }
        boolean tracked = admission == AddressLimits.Admission.ADMITTED;
        int n = open.incrementAndGet();
        if (maxConnections > 0 && n > maxConnections) {
            open.decrementAndGet();
            if (tracked) {
                perAddress.closed(address);
            }
            refusedOverCap.increment();
            connection.close();
            return false;
        }
        // From here its close, even one that has happened already, uncounts it (closed, below).
        connections.add(connection, tracked ? tenancy.countedFrom(address) : tenancy);
        if (n == maxConnections) {
            reclaimOne(connections, connection);
            reconcile();
        }
        return true;
    }

    /** An admitted connection has closed ({@code address}: the one counted for it, or null). */
    void closed(InetAddress address) {
        if (address != null) {
            perAddress.closed(address);
        }
        if (open.getAndDecrement() == maxConnections) {
            reconcile();
        }
    }

    /** At the cap: closes one idle keep-alive connection, if there is one, so that accepting goes on. */
    private void reclaimOne(ClientConnections connections, Channel justAdmitted) {
        java.util.function.Predicate<Channel> r = reclaimer;
        if (r != null && connections.reclaimOne(this, justAdmitted, r)) {
            reclaimed.increment();
        }
    }

    /** Idle keep-alive connections closed to make room at the cap. */
    public long reclaimed() {
        return reclaimed.sum();
    }

    /**
     * Sets each listener accepting or not from the count as it is when the task runs on the listener's
     * own loop. Called after every crossing of the cap, so the last task to run sees the last crossing.
     */
    private void reconcile() {
        for (Channel listener : listeners) {
            if (!listener.isOpen()) {
                continue; // closed at shutdown; its loop may be gone too
            }
            listener.eventLoop().execute(() -> {
                boolean accept = open.get() < maxConnections;
                if (listener.config().isAutoRead() != accept) {
                    if (!accept) {
                        pauses.increment();
                        // Once at WARN: a service held at its cap pauses and resumes with every close.
                        if (pauses.sum() == 1) LOG.warn("service {} holds {} connections (max-connections): accepting paused on {} until one closes",
                                service, maxConnections, listener.localAddress());
                        else LOG.debug("service {}: accepting paused on {}", service, listener.localAddress());
                    }
                    listener.config().setAutoRead(accept);
                }
            });
        }
    }

    /** Connections open now, as counted here. */
    public int open() {
        return open.get();
    }

    /** Connections reset at accept for a per-address limit. */
    public long refusedPerAddress() {
        return refusedPerAddress.sum();
    }

    /** Connections closed at accept for being over the cap (accepted in the batch that reached it). */
    public long refusedOverCap() {
        return refusedOverCap.sum();
    }

    /** How many times a listener stopped accepting at the cap. */
    public long pauses() {
        return pauses.sum();
    }

    /** Connections {@code address} holds, as the per-address limits count them. */
    public int openFrom(InetAddress address) {
        return perAddress == null ? 0 : perAddress.openFrom(address);
    }
}
