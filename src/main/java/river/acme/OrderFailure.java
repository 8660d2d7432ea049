package river.acme;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;

/** Why an order failed, as the metrics count it: a fixed set, so that no label value comes from a CA's text. */
enum OrderFailure {
    /** A challenge the CA found invalid, one it did not offer, the DNS hook failing, too many tokens in flight. */
    CHALLENGE_FAILED("challenge_failed"),
    /** The CA could not be reached: refused, timed out, no route, unknown host. */
    CA_UNREACHABLE("ca_unreachable"),
    /** The CA's {@code rateLimited} problem. */
    RATE_LIMITED("rate_limited"),
    /** The store's (or the fleet's) lock could not be taken, or was lost while the order was in flight. */
    LOCK_NOT_TAKEN("lock_not_taken"),
    /** The configured profile is not among those the CA lists. */
    PROFILE_NOT_OFFERED("profile_not_offered"),
    /** Any other problem document from the CA. */
    CA_ERROR("ca_error"),
    /** Anything else: the store not writable, an unexpected answer. */
    OTHER("other");

    final String label;

    OrderFailure(String label) {
        this.label = label;
    }

    /** The kind of a failed order's exception (its causes included). */
    static OrderFailure of(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AcmeClient.ChallengeFailed) {
                return CHALLENGE_FAILED;
            }
            if (t instanceof AcmeRateLimitedException) {
                return RATE_LIMITED;
            }
            if (t instanceof AcmeClient.ProfileNotOffered) {
                return PROFILE_NOT_OFFERED;
            }
            if (t instanceof LockLost) {
                return LOCK_NOT_TAKEN;
            }
            if (t instanceof AcmeServerException) {
                return CA_ERROR;
            }
            if (t instanceof AcmeNetworkException || t instanceof ConnectException || t instanceof HttpTimeoutException
                    || t instanceof UnknownHostException || t instanceof NoRouteToHostException) {
                return CA_UNREACHABLE;
            }
        }
        return OTHER;
    }

    /** A store's write refused because this River no longer holds the lock it took (its lease ran out). */
    static final class LockLost extends java.io.IOException {
        LockLost(String message) {
            super(message);
        }
    }
}
