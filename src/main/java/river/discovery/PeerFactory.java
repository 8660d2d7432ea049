package river.discovery;

import java.io.IOException;
import java.net.InetAddress;
import river.upstream.Peer;

/** Makes the peer for a server a source found, with the connection settings of its connector entry. */
@FunctionalInterface
public interface PeerFactory {

    /**
     * @param name the name the server was found under (the queried name, or the SRV target)
     * @param weight the SRV record's weight scaled, or -1 for the connector entry's own
     * @param priority the SRV priority, 0 for address records
     */
    Peer peer(InetAddress ip, int port, String name, int weight, int priority) throws IOException;
}
