package river.acme;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;
import river.config.AcmeConfig;

/**
 * When things happen, by River 0.8's rules: a certificate is due by {@code renew-before-expiry-days} or
 * {@code renew-after-issue-days} (without either, once a third of its lifetime remains, at most 30 days); certificates
 * are looked at hourly (with up to five minutes of jitter, so that several Rivers do not call the CA in step); a failed
 * order is retried after 1, 2, 4, … minutes, at most 6 hours apart, or later if the CA says so. Pure functions of their inputs: the clock and the randomness are the caller's.
 */
final class RenewalTimes {
    static final Duration CHECK_INTERVAL = Duration.ofHours(1);
    static final Duration MAX_JITTER = Duration.ofMinutes(5);
    static final Duration FIRST_RETRY = Duration.ofMinutes(1);
    static final Duration MAX_RETRY = Duration.ofHours(6);
    /** A CA's Retry-After beyond this is not waited for longer (a broken header should not park a certificate for a year). */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(24);

    /** RFC 9773 §4.3.2's limits on a renewalInfo answer's Retry-After. */
    static final Duration MIN_ARI_POLL = Duration.ofMinutes(1);
    static final Duration MAX_ARI_POLL = Duration.ofDays(1);
    /** RFC 9773 §4.3.3: after a long-term error (or an answer without Retry-After), ask again in six hours. */
    static final Duration ARI_LONG_TERM_RETRY = Duration.ofHours(6);
    /** Temporary renewalInfo errors in a row retried with a backoff before they count as a long-term error. */
    static final int ARI_TEMPORARY_TRIES = 5;
    /** How long a directory without renewalInfo is believed before River asks again (a CA may add it). */
    static final Duration ARI_UNSUPPORTED_RECHECK = Duration.ofDays(1);
    /**
     * A certificate is not renewed by its ARI window sooner than this after River got it: a CA that keeps answering
     * "renew now" for new certificates would otherwise make River order in a loop.
     */
    static final Duration MIN_AGE_FOR_ARI_RENEWAL = Duration.ofHours(1);

    private RenewalTimes() {}

    /** The longest margin the default rule keeps before expiry: River 0.8's {@code renew-before-expiry-days} default. */
    static final Duration DEFAULT_MARGIN = Duration.ofDays(AcmeConfig.DEFAULT_RENEW_BEFORE_EXPIRY_DAYS);

    static Instant dueAt(AcmeConfig.Renewal rule, StoredCertificate certificate) {
        if (rule instanceof AcmeConfig.Renewal.AfterIssue after) {
            Instant at = certificate.issuedAt().plus(Duration.ofDays(after.days()));
            return at.isBefore(certificate.notAfter()) ? at : byLifetime(certificate); // never left to expire
        }
        if (rule instanceof AcmeConfig.Renewal.BeforeExpiry before) {
            return certificate.notAfter().minus(Duration.ofDays(before.days()));
        }
        return byLifetime(certificate);
    }

    /** Whether {@code renew-after-issue-days} falls at or after this certificate's expiry (it is then renewed by lifetime). */
    static boolean expiresBeforeRule(AcmeConfig.Renewal rule, StoredCertificate certificate) {
        return rule instanceof AcmeConfig.Renewal.AfterIssue after
                && !certificate.issuedAt().plus(Duration.ofDays(after.days())).isBefore(certificate.notAfter());
    }

    /** The default rule: once a third of the lifetime (notBefore to notAfter) remains, at most {@link #DEFAULT_MARGIN} before expiry. */
    static Instant byLifetime(StoredCertificate certificate) {
        Duration third = Duration.between(certificate.notBefore(), certificate.notAfter()).dividedBy(3);
        return certificate.notAfter().minus(third.compareTo(DEFAULT_MARGIN) < 0 ? third : DEFAULT_MARGIN);
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

    /** RFC 9773 §4.2: a time drawn uniformly at random in the suggested window [start, end). */
    static Instant inWindow(Instant start, Instant end, RandomGenerator random) {
        long span = Duration.between(start, end).toMillis();
        return span <= 0 ? start : start.plusMillis(random.nextLong(span));
    }

    /**
     * When a certificate is due by its ARI window: at the time drawn in it ({@code chosen}; in the past, that is now),
     * never sooner than {@link #MIN_AGE_FOR_ARI_RENEWAL} after River got the certificate.
     */
    static Instant dueByWindow(Instant chosen, StoredCertificate certificate) {
        Instant earliest = certificate.issuedAt().plus(MIN_AGE_FOR_ARI_RENEWAL);
        return chosen.isBefore(earliest) ? earliest : chosen;
    }

    /**
     * When to ask for renewal information again after a valid answer: at its Retry-After, held between one minute
     * and one day (RFC 9773 §4.3.2); six hours when it had none (a long-term error, §4.3.3).
     */
    static Instant nextRenewalInfo(Instant now, java.util.Optional<Instant> retryAfter) {
        if (retryAfter.isEmpty()) {
            return now.plus(ARI_LONG_TERM_RETRY);
        }
        Instant at = retryAfter.get();
        Instant min = now.plus(MIN_ARI_POLL);
        Instant max = now.plus(MAX_ARI_POLL);
        return at.isBefore(min) ? min : at.isAfter(max) ? max : at;
    }

    /**
     * When to ask again after a failed request, the {@code temporaryFailures}-th temporary one in a row if it was
     * temporary: 1, 2, 4, 8 minutes for the first {@link #ARI_TEMPORARY_TRIES} - 1, then (and after any long-term
     * error) six hours (RFC 9773 §4.3.3).
     */
    static Instant renewalInfoRetryAt(Instant now, boolean temporary, int temporaryFailures) {
        if (temporary && temporaryFailures < ARI_TEMPORARY_TRIES) {
            return now.plus(FIRST_RETRY.multipliedBy(1L << Math.max(0, temporaryFailures - 1)));
        }
        return now.plus(ARI_LONG_TERM_RETRY);
    }
}
