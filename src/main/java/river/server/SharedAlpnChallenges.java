package river.server;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * TLS-ALPN-01 challenges another process published (an ACME fleet's Redis, adapted by the wiring): asked for when a
 * handshake offers acme-tls/1 for a name a listener manages and this process has no challenge of its own for it.
 */
@FunctionalInterface
public interface SharedAlpnChallenges {
    /** A completed lookup that found nothing. */
    CompletionStage<ChallengeCertificate> NOTHING = CompletableFuture.completedFuture(null);

    /** No shared challenges: every lookup answers "none" at once. */
    SharedAlpnChallenges NONE = name -> NOTHING;

    /**
     * The challenge key and certificate published for {@code name} (lower case), or null when there is none. Called on
     * an event loop: never blocks, completes within a bounded time and never exceptionally (a store that cannot be
     * reached is "none").
     */
    CompletionStage<ChallengeCertificate> lookup(String name);

    /** A published challenge: the self-signed acme-tls/1 certificate and its key. */
    record ChallengeCertificate(PrivateKey key, X509Certificate certificate) {}
}
