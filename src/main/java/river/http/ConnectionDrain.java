package river.http;

import io.netty.channel.Channel;

/**
 * What a graceful stop asks of each client connection, whichever protocol it speaks: whether it still
 * has a request (or an HTTP/2 stream, or a tunnel) in progress, and a signal to take no new ones and
 * close once done.
 */
public final class ConnectionDrain {
    private ConnectionDrain() {}

    /**
     * Tells the client to start nothing new on this connection, and has the connection close itself once
     * what it has in progress is done: HTTP/2 GOAWAY, then close when its last stream ends; HTTP/1.x,
     * from {@code drainDelayMs} on, {@code Connection: close} on the response in progress, and an idle
     * connection closed at {@code idleCloseDelayMs}; a tunnel runs on until either side ends it.
     * Callable from any thread.
     */
    public static void begin(Channel ch, long drainDelayMs, long idleCloseDelayMs) {
        ch.eventLoop().execute(() -> {
            Http2Drain h2 = ch.pipeline().get(Http2Drain.class);
            if (h2 != null) {
                h2.goAway();
                return;
            }
            Http1Connection h1 = ch.pipeline().get(Http1Connection.class);
            if (h1 != null) {
                h1.drain(drainDelayMs, idleCloseDelayMs);
            }
        });
    }

    /** Whether the connection has a request, stream or HTTP/2 tunnel in progress (readable from any thread). */
    public static boolean isBusy(Channel ch) {
        Http1Connection h1 = ch.pipeline().get(Http1Connection.class);
        if (h1 != null) {
            return h1.busy();
        }
        Http2Drain h2 = ch.pipeline().get(Http2Drain.class);
        // An HTTP/1.1 upgrade became a tunnel: its Http1Connection left the pipeline.
        return h2 != null ? h2.busy() : ch.pipeline().get("tunnel") != null;
    }

    /**
     * Closes the connection if it is an idle HTTP/1.1 keep-alive connection, to make room at a
     * connection cap; returns whether it looked like one (the close itself is decided on its event loop).
     * Callable from any thread.
     */
    public static boolean reclaimIfIdle(Channel ch) {
        Http1Connection h1 = ch.pipeline().get(Http1Connection.class);
        if (h1 == null || !h1.idleKeepAlive()) {
            return false;
        }
        ch.eventLoop().execute(h1::reclaim);
        return true;
    }
}
