package river.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The top-level {@code acme { … }} section: how River obtains and renews the certificates of the
 * listeners that set {@code acme-domains} (see docs/acme.md). Which names are managed is per listener;
 * this holds what applies to all of them.
 *
 * @param directory the CA's ACME directory URL ({@code provider}: a Let's Encrypt alias or an https URL)
 * @param contacts the account's contact URIs ({@code mailto:…}), in the order given
 * @param storeDir where the account key and the certificates are kept (absolute)
 * @param renewal when a certificate is replaced
 * @param challenge the challenge for names without a {@code domain} override
 * @param challengeListener an extra cleartext listener answering HTTP-01 challenges and redirecting the rest to https
 * @param dnsPropagationSeconds how long to wait after a DNS-01 hook has set its record before asking the CA to check
 * @param domains per-name overrides ({@code domain NAME challenge=… hook=…})
 * @param keyType the key type of the certificates' keys (River's extension; ECDSA P-256 by default)
 * @param caCertificatePath a PEM certificate (or several) to trust for the CA's own HTTPS, for a private or test CA
 *     (River's extension); without it the JVM's trust store is used
 * @param storeRedis fleet mode (River's extension): the account, the certificates and the order lock kept in Redis, shared
 *     by every River using the same server and prefix; store-dir is then this River's local copy
 * @param profile the ACME profile orders ask for (River's extension, draft-aaron-acme-profiles: {@code "shortlived"} at
 *     Let's Encrypt); empty: the CA's default profile
 */
public record AcmeConfig(URI directory, List<String> contacts, Path storeDir, Renewal renewal, Challenge challenge,
        Optional<ListenAddress> challengeListener, int dnsPropagationSeconds, List<Domain> domains, KeyType keyType,
        Optional<Path> caCertificatePath, Optional<RedisStore> storeRedis, Optional<String> profile) {

    public static final URI LETSENCRYPT = URI.create("https://acme-v02.api.letsencrypt.org/directory");
    public static final URI LETSENCRYPT_STAGING = URI.create("https://acme-staging-v02.api.letsencrypt.org/directory");
    public static final int DEFAULT_RENEW_BEFORE_EXPIRY_DAYS = 30;
    public static final int DEFAULT_DNS_PROPAGATION_SECONDS = 60;
    /** What a profile name may be: a token as Let's Encrypt's are ({@code classic}, {@code shortlived}, {@code tlsserver}). */
    public static final java.util.regex.Pattern PROFILE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public AcmeConfig {
        contacts = List.copyOf(contacts);
        domains = List.copyOf(domains);
    }

    /** Without fleet mode. */
    public AcmeConfig(URI directory, List<String> contacts, Path storeDir, Renewal renewal, Challenge challenge,
            Optional<ListenAddress> challengeListener, int dnsPropagationSeconds, List<Domain> domains, KeyType keyType,
            Optional<Path> caCertificatePath) {
        this(directory, contacts, storeDir, renewal, challenge, challengeListener, dnsPropagationSeconds, domains, keyType, caCertificatePath,
                Optional.empty());
    }

    /** With the CA's default profile. */
    public AcmeConfig(URI directory, List<String> contacts, Path storeDir, Renewal renewal, Challenge challenge,
            Optional<ListenAddress> challengeListener, int dnsPropagationSeconds, List<Domain> domains, KeyType keyType,
            Optional<Path> caCertificatePath, Optional<RedisStore> storeRedis) {
        this(directory, contacts, storeDir, renewal, challenge, challengeListener, dnsPropagationSeconds, domains, keyType, caCertificatePath,
                storeRedis, Optional.empty());
    }

    /** The challenge used for {@code name} (a managed name as written in acme-domains, lower case). */
    public Challenge challengeFor(String name) {
        return domain(name).flatMap(Domain::challenge).orElse(challenge);
    }

    /** The DNS-01 hook for {@code name}, if its {@code domain} entry names one. */
    public Optional<Path> hookFor(String name) {
        return domain(name).flatMap(Domain::hook);
    }

    private Optional<Domain> domain(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return domains.stream().filter(d -> d.name().equals(lower)).findFirst();
    }

    private static <E> Optional<E> byWireName(E[] values, java.util.function.Function<E, String> wireName, String text) {
        return java.util.Arrays.stream(values).filter(v -> wireName.apply(v).equals(text)).findFirst();
    }

    /** How a challenge type is written in the configuration and in ACME. */
    public enum Challenge {
        HTTP_01("http-01"), DNS_01("dns-01"), TLS_ALPN_01("tls-alpn-01");

        private final String wireName;

        Challenge(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        static Optional<Challenge> of(String text) {
            return byWireName(values(), Challenge::wireName, text);
        }
    }

    /** The key type of certificate keys: {@code key-type "ecdsa-p256"} (default) or {@code "rsa-2048"}. */
    public enum KeyType {
        ECDSA_P256("ecdsa-p256"), RSA_2048("rsa-2048");

        private final String wireName;

        KeyType(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        static Optional<KeyType> of(String text) {
            return byWireName(values(), KeyType::wireName, text);
        }
    }

    /** When a certificate is due for renewal. */
    public sealed interface Renewal {
        /**
         * Neither field set: once a third of the certificate's lifetime remains, at most 30 days before expiry: River 0.8's
         * 30 days for a certificate of 90 days or more, a margin in proportion for a shorter one (a 6-day certificate would
         * otherwise be due as soon as it is issued).
         */
        record Default() implements Renewal {}

        /** {@code renew-before-expiry-days}: once fewer than {@code days} remain before notAfter. */
        record BeforeExpiry(int days) implements Renewal {}

        /** {@code renew-after-issue-days}: {@code days} after it was obtained (as {@link Default} for a certificate that expires first). */
        record AfterIssue(int days) implements Renewal {}
    }

    /**
     * A per-name override: {@code domain "*.example.com" challenge="dns-01" hook="/usr/local/bin/hook"}.
     *
     * @param name the name as in acme-domains (lower case; {@code *.} for a wildcard)
     */
    public record Domain(String name, Optional<Challenge> challenge, Optional<Path> hook) {}

    /**
     * {@code store-redis "redis://host:port/db" key-prefix="river:acme"}: fleet mode.
     *
     * @param url a Redis URI ({@code redis://} or {@code rediss://})
     * @param keyPrefix the start of every key River writes ({@code river:acme} by default)
     */
    public record RedisStore(String url, String keyPrefix) {
        public static final String DEFAULT_KEY_PREFIX = "river:acme";
    }
}
