package river.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reads and drops the rest of a response whose client went away, then pools the connection if the
 * response ended cleanly within {@link #MAX_BYTES} and {@link #MAX_MILLIS}; otherwise closes it.
 * Dropping a few kilobytes is far cheaper than dialing (and handshaking) a replacement, and clients
 * that give up mid-request are common. Runs on the connection's event loop.
 */
final class ResponseDrain implements UpstreamListener {
    static final int MAX_BYTES = 64 * 1024;
    static final long MAX_MILLIS = 1_000;

    private final UpstreamConnection connection;
    private final boolean bodyless;
    /** Whether the response allows reuse; null until its head has been seen. */
    private Boolean reusable;
    private boolean informational;
    private long bytes;
    private boolean done;
    private ScheduledFuture<?> deadline;

    ResponseDrain(UpstreamConnection connection, Boolean reusable, boolean bodyless) {
        this.connection = connection;
        this.reusable = reusable;
        this.bodyless = bodyless;
    }

    /** Arms the time bound; call on the connection's event loop. */
    void start() {
        if (!done) {
            deadline = connection.channel().eventLoop().schedule(() -> end(false), MAX_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void onUpstreamMessage(UpstreamConnection c, HttpObject message) {
        try {
            if (done) {
                return;
            }
            if (message.decoderResult().isFailure()) {
                end(false);
                return;
            }
            if (message instanceof HttpResponse response) {
                int code = response.status().code();
                if (code == 101) {
                    end(false);
                    return;
                }
                if (code < 200) {
                    informational = true; // its end-of-message follows; the real response comes after
                } else {
                    reusable = UpstreamConnection.reusableAfter(response, !bodyless && code != 204 && code != 304);
                }
            }
            if (message instanceof HttpContent content) {
                bytes += content.content().readableBytes();
                if (content instanceof LastHttpContent) {
                    if (informational) {
                        informational = false;
                    } else {
                        end(Boolean.TRUE.equals(reusable));
                    }
                } else if (bytes > MAX_BYTES) {
                    end(false);
                }
            }
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection c, Throwable cause) {
        end(false);
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection c, boolean writable) {
        // Nothing is written while draining.
    }

    private void end(boolean reuse) {
        if (done) {
            return;
        }
        done = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        if (reuse && connection.usable()) {
            connection.release();
        } else {
            connection.discard();
        }
    }
}
