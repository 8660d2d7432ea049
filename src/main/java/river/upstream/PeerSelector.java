package river.upstream;

import java.net.InetSocketAddress;

/**
 * Chooses the upstream for a request. Implementations must be lock-free: they run on every event
 * loop for every request.
 */
public interface PeerSelector {

    /**
     * The peer for a request, or null when none is available (none configured, or none healthy).
     *
     * @param path the request's URI path, for hashing selections
     * @param client the client's address (null for Unix sockets), for hashing selections
     * @param tried null or empty for a first attempt; after failed connects, the peers already
     *     tried for this request, and the answer must then be another peer when there is one
     */
    Peer select(String path, InetSocketAddress client, java.util.Collection<Peer> tried);

    /** How many distinct peers there are, which bounds retries. */
    int size();

    /**
     * What happened when a request used {@code peer}: passive health checking counts failures in a
     * row (connect failures, broken or timed-out responses) and ejects a peer for a while.
     */
    default void report(Peer peer, boolean success) {}
}
