package river.config;

import java.net.InetAddress;
import java.util.List;

/**
 * A list of CIDR ranges made ready, once, for lookups on the request path: its own copies of the
 * ranges (a record's array could be changed by whoever holds it), looked up without allocating
 * beyond the address's bytes.
 */
public final class CidrSet {
    private final CidrRange[] ranges;

    private CidrSet(List<CidrRange> ranges) {
        this.ranges = new CidrRange[ranges.size()];
        for (int i = 0; i < this.ranges.length; i++) {
            CidrRange r = ranges.get(i);
            this.ranges[i] = new CidrRange(r.network().clone(), r.prefixLength());
        }
    }

    public static CidrSet of(List<CidrRange> ranges) {
        return new CidrSet(ranges);
    }

    /** Whether the address lies in any of the ranges; null (a Unix-socket client) lies in none. */
    public boolean contains(InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] bytes = address.getAddress();
        for (CidrRange range : ranges) {
            if (range.contains(bytes)) {
                return true;
            }
        }
        return false;
    }
}
