package river.acme;

import java.time.Instant;
import java.util.Optional;

/**
 * What the CA answered when asked for a certificate's renewal information (RFC 9773): a suggested window, no
 * {@code renewalInfo} in its directory, or a failure, temporary (a 5xx, a timeout: asked again with a backoff) or
 * long-term (a 4xx, a refused connection, an invalid answer: asked again in six hours).
 */
public sealed interface RenewalInfoAnswer {
    /** A valid answer: {@code end} is after {@code start}; {@code retryAfter} is the answer's Retry-After, if it had one. */
    record Window(Instant start, Instant end, Optional<String> explanationUrl, Optional<Instant> retryAfter) implements RenewalInfoAnswer {
        public Window {
            if (!end.isAfter(start)) {
                throw new IllegalArgumentException("a suggested window ends after it starts");
            }
        }
    }

    /** The CA's directory has no {@code renewalInfo}: the configured rule applies. */
    record Unsupported() implements RenewalInfoAnswer {}

    /** No usable answer. {@code invalid}: an answer came but was malformed (a window that ends before it starts, bad JSON). */
    record Failed(boolean temporary, boolean invalid, String reason) implements RenewalInfoAnswer {}
}
