package river.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import river.config.CidrSet;
import river.config.FilterConfig;

/**
 * A service's {@code connection-filters}: block and allow lists applied, in the order written, to a
 * connection's peer as it is accepted, so that a refused peer costs no TLS handshake and no parsing.
 */
public final class AcceptFilter {
    /** One list, built once from the configuration: a connection is refused when any rule refuses it. */
    private final Rule[] rules;
    private final LongAdder refused = new LongAdder();

    /** A block list (refuses peers inside) or an allow list (refuses peers outside). */
    private record Rule(CidrSet ranges, boolean allow) {
        boolean refuses(InetAddress peer) {
            return allow != ranges.contains(peer);
        }
    }

    private AcceptFilter(List<FilterConfig> filters) {
        this.rules = new Rule[filters.size()];
        for (int i = 0; i < rules.length; i++) {
            FilterConfig f = filters.get(i);
            if (f instanceof FilterConfig.BlockCidrRange block) {
                rules[i] = new Rule(CidrSet.of(block.ranges()), false);
            } else if (f instanceof FilterConfig.AllowCidrRange allow) {
                rules[i] = new Rule(CidrSet.of(allow.ranges()), true);
            } else {
                // The readers accept only address filters here; anything else is a wiring bug.
                throw new IllegalArgumentException("not a connection filter: " + f);
            }
        }
    }

    /** The filter for a service, or null when it has none. */
    public static AcceptFilter of(List<FilterConfig> filters) {
        return filters.isEmpty() ? null : new AcceptFilter(filters);
    }

    /** Whether a connection from {@code peer} may be served; Unix-socket peers match no range. */
    public boolean admits(SocketAddress peer) {
        InetAddress ip = peer instanceof InetSocketAddress inet ? inet.getAddress() : null;
        for (Rule rule : rules) {
            if (rule.refuses(ip)) {
                return false;
            }
        }
        return true;
    }

    public void countRefused() {
        refused.increment();
    }

    public long refused() {
        return refused.sum();
    }
}
