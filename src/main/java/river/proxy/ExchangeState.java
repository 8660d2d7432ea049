package river.proxy;

/**
 * The states of an {@link Exchange}, and which transitions its lifecycle allows; docs/architecture.md
 * draws them. An exchange moves only through {@link #mayMoveTo}; any other move is an engine bug.
 */
public enum ExchangeState {
    /** Request phases (modules' onRequest) are running, or one of them is waiting. */
    PHASES,
    /** Choosing the peer for an attempt (the selector, then upstreamPeer). */
    SELECTING,
    /** Waiting for a connection, then running the upstream-request phase. */
    CONNECTING,
    /** Request head sent; the request body is still going up. */
    SENDING,
    /** The whole request is upstream; waiting for the response head. */
    AWAITING_HEAD,
    /** A response head (upstream, local or error) is going through the response phases. */
    HEAD_PHASES,
    /** The response head went to the client; the body streams. */
    STREAMING,
    /** Both connections were joined into a byte tunnel (WebSocket). */
    TUNNELLING,
    /** Ended, in any way; the logging phase has run. */
    DONE;

    /** Whether the exchange may go from this state to {@code next}. */
    boolean mayMoveTo(ExchangeState next) {
        if (next == DONE) {
            return this != DONE;
        }
        return switch (this) {
            case PHASES -> next == SELECTING || next == HEAD_PHASES;
            case SELECTING -> next == CONNECTING || next == HEAD_PHASES;
            case CONNECTING -> next == SELECTING || next == SENDING || next == AWAITING_HEAD || next == HEAD_PHASES;
            case SENDING -> next == AWAITING_HEAD || next == HEAD_PHASES || next == SELECTING;
            case AWAITING_HEAD -> next == HEAD_PHASES || next == SELECTING;
            case HEAD_PHASES -> next == HEAD_PHASES || next == STREAMING || next == TUNNELLING;
            case STREAMING, TUNNELLING, DONE -> false;
        };
    }
}
