package river.acme;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;
import river.config.AcmeConfig;

/**
 * When things happen, by River 0.8's rules: a certificate is due by {@code renew-before-expiry-days} or
 * {@code renew-after-issue-days}; certificates are looked at hourly (with up to five minutes of jitter, so that
 * several Rivers do not call the CA in step); a failed order is retried after 1, 2, 4, … minutes, at most 6 hours
 * apart, or later if the CA says so. Pure functions of their inputs: the clock and the randomness are the caller's.
 */
final class RenewalTimes {
    static final Duration CHECK_INTERVAL = Duration.ofHours(1);
    static final Duration MAX_JITTER = Duration.ofMinutes(5);
    static final Duration FIRST_RETRY = Duration.ofMinutes(1);
    static final Duration MAX_RETRY = Duration.ofHours(6);
    /** A CA's Retry-After beyond this is not waited for longer (a broken header should not park a certificate for a year). */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(24);

    private RenewalTimes() {}

    static Instant dueAt(AcmeConfig.Renewal rule, StoredCertificate certificate) {
        if (rule instanceof AcmeConfig.Renewal.AfterIssue after) {
            return certificate.issuedAt().plus(Duration.ofDays(after.days()));
        }
        return certificate.notAfter().minus(Duration.ofDays(((AcmeConfig.Renewal.BeforeExpiry) rule).days()));
    }

    /** The next hourly look, jittered. */
    static Instant nextCheck(Instant now, RandomGenerator random) {
        return now.plus(CHECK_INTERVAL).plusMillis(random.nextLong(MAX_JITTER.toMillis() + 1));
    }

    /**
     * The next attempt after the {@code failures}-th failure in a row: exponential, capped, never before what the
     * CA asked for ({@code retryAfter}, capped too).
     */
    static Instant retryAt(Instant now, int failures, Instant retryAfter) {
        Duration delay = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 20));
        if (delay.compareTo(MAX_RETRY) > 0) {
            delay = MAX_RETRY;
        }
        Instant at = now.plus(delay);
        if (retryAfter != null && retryAfter.isAfter(at)) {
            Instant capped = now.plus(MAX_RETRY_AFTER);
            at = retryAfter.isAfter(capped) ? capped : retryAfter;
        }
        return at;
    }
}
