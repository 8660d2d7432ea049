package river.proxy;

import java.util.concurrent.TimeUnit;
import river.upstream.Peer;

/**
 * The deadlines of one exchange as plain fields, so that setting or moving one costs no timer
 * operation on the request path: the response head's, the body's idle bound (either direction), and
 * the slow-client bounds. The client connection's one timer asks {@link #check} at the earliest
 * deadline it was told of; times are the engine clock's nanoseconds.
 */
final class Deadlines {

    /** What {@link #check} found past due. */
    enum Expired {
        NONE(null), RESPONSE(ProxyError.Kind.UPSTREAM_TIMEOUT), BODY(ProxyError.Kind.BODY_TIMEOUT), CLIENT(ProxyError.Kind.CLIENT_TOO_SLOW);

        /** The error the exchange fails with. */
        final ProxyError.Kind kind;

        Expired(ProxyError.Kind kind) {
            this.kind = kind;
        }
    }

    private final SlowClientGuard slowClients;
    private final EngineSettings settings;
    /** When the response head must have arrived, or 0. */
    private long response;
    private boolean watchingBody;
    private long lastBodyActivity;
    /** Since when the client has not been taking the response (its connection not writable), or 0. */
    private long clientStalledSince;
    /** When the response head went to the client, for the minimum send rate. */
    private long headSentAt;
    /** The next deadline after a {@link #check} that found none expired, or 0. */
    private long next;

    Deadlines(SlowClientGuard slowClients, EngineSettings settings) {
        this.slowClients = slowClients;
        this.settings = settings;
    }

    /**
     * The request went to {@code peer}: its response head is due within the connector's read timeout,
     * else the service's response timeout; returns when.
     */
    long expectResponse(long now, Peer peer) {
        int readMs = peer.timeouts().readMs();
        response = now + TimeUnit.MILLISECONDS.toNanos(readMs > 0 ? readMs : settings.upstreamResponseTimeoutMs());
        return response;
    }

    /**
     * How long a body may stall: the connector's write timeout while the request body is going up,
     * its read timeout while the response streams, else the service's body timeout.
     *
     * @param peer the peer of the current attempt, or null before there is one
     */
    long bodyIdleNanos(Peer peer, boolean sending) {
        int ms = 0;
        if (peer != null) {
            ms = sending ? peer.timeouts().writeMs() : peer.timeouts().readMs();
        }
        return TimeUnit.MILLISECONDS.toNanos(ms > 0 ? ms : settings.bodyIdleTimeoutMs());
    }

    void responseArrived() {
        response = 0;
    }

    void headSent(long now) {
        headSentAt = now;
    }

    /** A body moved; returns the wake-up to ask for when this starts the watch, else 0. */
    long bodyMoved(long now, long idleNanos) {
        lastBodyActivity = now;
        if (watchingBody) {
            return 0;
        }
        watchingBody = true;
        return now + idleNanos;
    }

    /** The client stopped taking the response; returns the wake-up to ask for, or 0 when nothing bounds it. */
    long clientStalled(long now) {
        if (clientStalledSince != 0 || !slowClients.active()) {
            return 0;
        }
        clientStalledSince = now;
        return slowClients.firstCheck(now);
    }

    void clientWritable() {
        clientStalledSince = 0;
    }

    /**
     * What is past due at {@code now}, or NONE with {@link #next} set.
     *
     * @param awaitingResponse whether the response head is still awaited
     * @param bodyMoving whether a body is streaming (the request's up, or the response's down)
     * @param idleNanos how long that body may stall
     */
    Expired check(long now, boolean awaitingResponse, boolean bodyMoving, long idleNanos, long bytesOut) {
        next = 0;
        if (awaitingResponse && response != 0) {
            if (now - response >= 0) {
                return Expired.RESPONSE;
            }
            next = response;
        }
        if (slowClients.tooSlow(now, clientStalledSince, headSentAt, bytesOut)) {
            return Expired.CLIENT;
        }
        if (clientStalledSince != 0) {
            next = earlier(next, now + SlowClientGuard.RECHECK_NANOS);
        }
        if (watchingBody && bodyMoving) {
            long bodyDeadline = lastBodyActivity + idleNanos;
            if (now - bodyDeadline >= 0) {
                return Expired.BODY;
            }
            next = earlier(next, bodyDeadline);
        }
        return Expired.NONE;
    }

    long next() {
        return next;
    }

    private static long earlier(long a, long b) {
        return a == 0 || b - a < 0 ? b : a;
    }
}
