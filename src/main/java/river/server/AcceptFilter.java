package river.server;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import river.config.CidrRange;
import river.config.FilterConfig;

/**
 * A service's {@code connection-filters}: block and allow lists applied, in the order written, to a
 * connection's peer as it is accepted, so that a refused peer costs no TLS handshake and no parsing.
 */
public final class AcceptFilter {
    private final List<FilterConfig> filters;
    private final LongAdder refused = new LongAdder();

    private AcceptFilter(List<FilterConfig> filters) {
        this.filters = List.copyOf(filters);
    }

    /** The filter for a service, or null when it has none. */
    public static AcceptFilter of(List<FilterConfig> filters) {
        return filters.isEmpty() ? null : new AcceptFilter(filters);
    }

    /** Whether a connection from {@code peer} may be served; Unix-socket peers match no range. */
    public boolean admits(SocketAddress peer) {
        byte[] ip = peer instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress().getAddress() : null;
        for (FilterConfig f : filters) {
            if (f instanceof FilterConfig.BlockCidrRange block && ip != null && contains(block.ranges(), ip)) {
                return false;
            }
            if (f instanceof FilterConfig.AllowCidrRange allow && (ip == null || !contains(allow.ranges(), ip))) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(List<CidrRange> ranges, byte[] ip) {
        for (CidrRange r : ranges) {
            if (r.contains(ip)) {
                return true;
            }
        }
        return false;
    }

    public void countRefused() {
        refused.increment();
    }

    public long refused() {
        return refused.sum();
    }
}
