package river.http;

import io.netty.channel.Channel;

/**
 * What a graceful stop asks of each client connection, whichever protocol it speaks: whether it still
 * has a request (or an HTTP/2 stream) in progress, and a signal to take no new ones. HTTP/1.x needs no
 * signal: its connections are closed once idle. HTTP/2 connections are sent GOAWAY.
 */
public final class ConnectionDrain {
    private ConnectionDrain() {}

    /** Tells the client to start nothing new on this connection (HTTP/2 GOAWAY); callable from any thread. */
    public static void begin(Channel ch) {
        Http2Drain h2 = ch.pipeline().get(Http2Drain.class);
        if (h2 != null) {
            h2.goAway();
        }
    }

    /** Whether the connection has a request, stream or HTTP/2 tunnel in progress (readable from any thread). */
    public static boolean isBusy(Channel ch) {
        Http1Connection h1 = ch.pipeline().get(Http1Connection.class);
        if (h1 != null) {
            return h1.busy();
        }
        Http2Drain h2 = ch.pipeline().get(Http2Drain.class);
        return h2 != null && h2.busy();
    }
}
