package river.service;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.SocketAddress;
import java.util.List;
import river.upstream.ConnectionPool;

/** A started service: its listening sockets, event loops and upstream pool. */
public final class RunningService {
    private final String name;
    private final EventLoopGroup group;
    private final ConnectionPool pool;
    private final List<Channel> listeners;
    private final UpstreamWiring upstreams;
    private final river.server.AcceptFilter acceptFilter;
    private final river.server.ConnectionLimiter limiter;

    RunningService(String name, EventLoopGroup group, ConnectionPool pool, List<Channel> listeners, UpstreamWiring upstreams,
            river.server.AcceptFilter acceptFilter, river.server.ConnectionLimiter limiter) {
        this.acceptFilter = acceptFilter;
        this.limiter = limiter;
        this.name = name;
        this.group = group;
        this.pool = pool;
        this.listeners = List.copyOf(listeners);
        this.upstreams = upstreams;
    }

    /** Connections closed at accept time by connection-filters. */
    public long connectionsRefused() {
        return acceptFilter == null ? 0 : acceptFilter.refused();
    }

    /** The service's connection limits and their counters. */
    public river.server.ConnectionLimiter limiter() {
        return limiter;
    }

    /** The upstream groups of the service (one, or one per route), for inspection. */
    public List<river.balance.UpstreamGroup> upstreamGroups() {
        return upstreams == null ? List.of() : upstreams.groups();
    }

    public String name() {
        return name;
    }

    /** The addresses actually bound, in configuration order (with real ports for port 0). */
    public List<SocketAddress> boundAddresses() {
        return listeners.stream().map(Channel::localAddress).toList();
    }

    /** The service's upstream pool, or null for a file server. */
    public ConnectionPool pool() {
        return pool;
    }

    EventLoopGroup group() {
        return group;
    }

    List<Channel> listeners() {
        return listeners;
    }
}
