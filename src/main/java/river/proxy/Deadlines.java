package river.proxy;

import java.util.concurrent.TimeUnit;
import river.upstream.Peer;

/**
 * The deadlines of one exchange as plain fields, so that setting or moving one costs no timer
 * operation on the request path: the response head's, the body's idle bound (either direction), and
 * the slow-client bounds. A new deadline only asks the client connection's one timer for a wake-up
 * ({@link Downstream#wakeAt}); the timer then asks {@link #check} at the earliest deadline it was told
 * of. Times are the engine clock's nanoseconds.
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
    private final Downstream downstream;
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

    Deadlines(SlowClientGuard slowClients, EngineSettings settings, Downstream downstream) {
        this.slowClients = slowClients;
        this.settings = settings;
        this.downstream = downstream;
    }

    /**
     * The request went to {@code peer}: its response head is due within the connector's read timeout,
     * else the service's response timeout.
     */
    void expectResponse(long now, Peer peer) {
        int readMs = peer.timeouts().readMs();
        response = now + TimeUnit.MILLISECONDS.toNanos(readMs > 0 ? readMs : settings.upstreamResponseTimeoutMs());
        downstream.wakeAt(response);
    }

    /**
     * How long a body may stall: the connector's write timeout while the request body is going up,
     * its read timeout while the response streams, else the service's body timeout.
     *
     * @param peer the peer of the current attempt, or null before there is one
     */
    private long bodyIdleNanos(Peer peer, boolean sending) {
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

    /**
     * A body moved; the first move starts the idle watch.
     *
     * @param sending whether it is the request body going up (else the response's coming down)
     */
    void bodyMoved(long now, Peer peer, boolean sending) {
        lastBodyActivity = now;
        if (!watchingBody) {
            watchingBody = true;
            downstream.wakeAt(now + bodyIdleNanos(peer, sending));
        }
    }

    /** The client stopped taking the response: the slow-client bounds (if any) start counting. */
    void clientStalled(long now) {
        if (clientStalledSince == 0 && slowClients.active()) {
            clientStalledSince = now;
            downstream.wakeAt(slowClients.firstCheck(now));
        }
    }

    void clientWritable() {
        clientStalledSince = 0;
    }

    /**
     * What is past due at {@code now}, or NONE with {@link #next} set. The response head is awaited
     * while sending or awaiting it; a body streams while sending (up) or streaming (down).
     */
    Expired check(long now, ExchangeState state, Peer peer, long bytesOut) {
        boolean sending = state == ExchangeState.SENDING;
        boolean awaitingResponse = sending || state == ExchangeState.AWAITING_HEAD;
        boolean bodyMoving = sending || state == ExchangeState.STREAMING;
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
            long bodyDeadline = lastBodyActivity + bodyIdleNanos(peer, sending);
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
