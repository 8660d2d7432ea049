package river.proxy;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.channels.FileChannel;

/**
 * The client side of one exchange, as the engine needs it, independent of the HTTP version: the
 * codec layer implements it for HTTP/1.x (and later HTTP/2 streams).
 */
public interface Downstream {

    EventLoop eventLoop();

    /** The address the client connected to (River's listener), or null (Unix sockets). */
    default java.net.InetSocketAddress localAddress() {
        return null;
    }

    /** Whether the client speaks HTTP/1.0 (no 1xx, no chunked framing). */
    boolean isHttp10();

    /** Whether the client speaks HTTP/2 (this is one of its streams). */
    default boolean isHttp2() {
        return false;
    }

    /** Stops or resumes reading the request body from the client (backpressure). */
    void setReading(boolean reading);

    /** Whether more can be written to the client without queueing beyond the water mark. */
    boolean isWritable();

    /** Sends an informational (1xx) response. */
    void sendInformational(HttpResponse response);

    /**
     * Sends the final response head.
     *
     * @param bodyFollows false for responses that never have a body (HEAD, 204, 304)
     */
    void sendHead(HttpResponse head, boolean bodyFollows);

    /** Sends a body piece; a {@code LastHttpContent} ends the response. */
    void sendBody(HttpContent content);

    /** Sends on what was written and waits for a body piece to go with it: the head, while a module holds the body. */
    void flush();

    /** Sends a file range as the whole body and ends the response; closes the file afterwards. */
    void sendFile(FileChannel file, long offset, long length);

    /**
     * Sends a body produced piece by piece as the connection takes it (Netty's chunked writing: a piece
     * is read only while the connection is writable), ending the response with its last piece; the
     * input is closed at the end, or when the client leaves.
     */
    void sendChunks(io.netty.handler.stream.ChunkedInput<HttpContent> body);

    /** Called once the response is complete, whether or not the request body was fully read. */
    void responseComplete(boolean requestFullyRead);

    /**
     * Asks to have the exchange's {@code onTick} called at (or soon after) this System.nanoTime
     * deadline. Cheap: the connection keeps one timer and only reschedules it when a deadline is
     * earlier than the one already pending.
     */
    void wakeAt(long deadlineNanos);

    /**
     * Sends a 101 Switching Protocols head and turns the client connection into a byte tunnel.
     * {@code upstreamSide} is given the client channel (or, for an HTTP/2 stream, the stream as a
     * {@link Tunnel.ClientEnd}), turns the upstream connection into the other end of the tunnel, and
     * returns the upstream channel (on the same event loop). The exchange ends here; the connection
     * (HTTP/2: the stream) carries no further HTTP.
     */
    void switchToTunnel(HttpResponse switching, Tunnel.Join upstreamSide, long idleTimeoutMs);

    /** Closes the connection abruptly: used when a response cannot be completed. */
    void abort();
}
