package river.upstream;

import io.netty.handler.codec.http.HttpObject;

/**
 * Receives what happens on a borrowed upstream connection. Calls arrive on the connection's own event
 * loop, which may differ from the borrower's.
 */
public interface UpstreamListener {

    /** A decoded response head or body piece; the listener owns (and must release) it. */
    void onUpstreamMessage(UpstreamConnection connection, HttpObject message);

    /** The connection failed or was closed by the origin. */
    void onUpstreamFailure(UpstreamConnection connection, Throwable cause);

    /** The connection's outbound buffer crossed a water mark. */
    void onUpstreamWritabilityChanged(UpstreamConnection connection, boolean writable);

    /** The client on whose behalf the connection is made, for a PROXY protocol header; null if unknown. */
    default java.net.InetSocketAddress proxiedClient() {
        return null;
    }

    /** The address that client connected to, for a PROXY protocol header; null if unknown. */
    default java.net.InetSocketAddress proxiedDestination() {
        return null;
    }
}
