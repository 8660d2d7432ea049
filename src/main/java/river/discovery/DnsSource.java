package river.discovery;

/**
 * One re-resolved connector entry: River 0.8's {@code dns "NAME" port=N} or {@code srv "NAME"}.
 *
 * @param srv whether {@code name} names SRV records (else A/AAAA records on {@code port})
 * @param fixedSeconds look up again every this many seconds, or 0 to follow the answer's TTL
 * @param minSeconds the shortest interval (TTLs and retries are clamped into [min, max])
 * @param maxSeconds the longest interval
 * @param peers makes the peer of each server found
 */
public record DnsSource(boolean srv, String name, int port, int fixedSeconds, int minSeconds, int maxSeconds, PeerFactory peers) {

    @Override
    public String toString() {
        return srv ? "srv \"" + name + "\"" : "dns \"" + name + "\" port=" + port;
    }
}
