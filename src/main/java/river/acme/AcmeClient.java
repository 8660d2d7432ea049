package river.acme;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.OrderBuilder;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.RenewalInfo;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Dns01Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.toolbox.AcmeUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.AcmeConfig;

/**
 * One ACME order per call, on acme4j: the account (its key kept in the store; registered once, then reused by
 * its URL), the authorizations by the configured challenge of each name (HTTP-01 through the {@link ChallengeBoard},
 * TLS-ALPN-01 through the {@link CertificateInstaller}, both also through {@link FleetChallenges} in fleet mode, DNS-01
 * through the hook and the propagation wait), then a new key (ECDSA P-256 unless configured) and the chain; an order
 * asks for the configured profile when the CA lists it. Every step is logged with its name, every failure with the CA's
 * problem document. Blocking: runs on the ACME thread only.
 */
public final class AcmeClient implements CertificateManager.Issuer, CertificateManager.RenewalInfoSource {
    private static final Logger LOG = LoggerFactory.getLogger(AcmeClient.class);
    static final Duration CHALLENGE_TIMEOUT = Duration.ofMinutes(3);
    static final Duration ORDER_TIMEOUT = Duration.ofMinutes(3);

    /** Waits: the ACME thread's sleep, replaced in tests. */
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final AcmeConfig config;
    private final CertificateStore store;
    private final ChallengeBoard board;
    private final CertificateInstaller installer;
    private final DnsHook hook;
    /** Fleet mode: where HTTP-01 and TLS-ALPN-01 challenges are published for the other members; null otherwise. */
    private final FleetChallenges fleet;
    private final Sleeper sleeper;
    private final Clock clock;
    private Login login;
    /** Whether the log said that the CA lists no profiles, so the configured one is not sent. */
    private boolean toldNoProfiles;

    public AcmeClient(AcmeConfig config, CertificateStore store, ChallengeBoard board, CertificateInstaller installer, Sleeper sleeper, Clock clock) {
        this(config, store, board, installer, new DnsHook(), sleeper, clock);
    }

    AcmeClient(AcmeConfig config, CertificateStore store, ChallengeBoard board, CertificateInstaller installer, DnsHook hook, Sleeper sleeper,
            Clock clock) {
        Bouncy.register();
        this.config = config;
        this.store = store;
        this.board = board;
        this.installer = installer;
        this.hook = hook;
        this.fleet = store instanceof RedisAcmeStore redis ? redis.challenges() : null;
        this.sleeper = sleeper;
        this.clock = clock;
    }

    /** The problem type a CA answers a {@code replaces} with when that certificate was already replaced (RFC 9773 §5). */
    static final String ALREADY_REPLACED = "urn:ietf:params:acme:error:alreadyReplaced";

    /** Proving control of a name failed: the CA found the challenge invalid, did not offer it, or River could not set it up. */
    static final class ChallengeFailed extends AcmeException {
        ChallengeFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The acme section's profile is not among those the CA's directory lists. */
    static final class ProfileNotOffered extends AcmeException {
        ProfileNotOffered(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage(); // the log line names the kind already
        }
    }

    @Override
    public StoredCertificate issue(List<String> names) throws Exception {
        return order(names, null);
    }

    /**
     * A renewal: when the CA's directory offers renewalInfo (RFC 9773), the order names the certificate it replaces; if
     * the CA answers that one was already replaced (by an order whose certificate River never stored), it is ordered
     * again without.
     */
    @Override
    public StoredCertificate renew(List<String> names, StoredCertificate previous) throws Exception {
        String replaces = null;
        if (login().getSession().resourceUrlOptional(Resource.RENEWAL_INFO).isPresent()) {
            try {
                replaces = AriIdentifier.of(previous.leaf());
            } catch (IllegalArgumentException e) {
                LOG.warn("ACME: the certificate for {} cannot be named in replaces ({}); ordering without", names, e.getMessage());
            }
        }
        if (replaces == null) {
            return order(names, null);
        }
        try {
            return order(names, replaces);
        } catch (AcmeServerException e) {
            if (!ALREADY_REPLACED.equals(String.valueOf(e.getType()))) {
                throw e;
            }
            LOG.warn("ACME: the CA says the certificate {} for {} was already replaced ({}); ordering without replaces", replaces, names,
                    e.getProblem());
            return order(names, null);
        }
    }

    private StoredCertificate order(List<String> names, String replaces) throws Exception {
        Login account = login();
        OrderBuilder builder = account.newOrder().domains(names);
        if (replaces != null) {
            builder.replaces(replaces);
        }
        profile(account, names).ifPresent(builder::profile);
        Order order = builder.create();
        Optional<String> profile = order.getJSON().get("profile").optional().map(org.shredzone.acme4j.toolbox.JSON.Value::asString);
        LOG.info("ACME: order {} for {} created{}{}", order.getLocation(), names, profile.map(p -> " with profile " + p).orElse(""),
                replaces == null ? "" : " (replacing " + replaces + ")");
        for (Authorization authorization : order.getAuthorizations()) {
            if (authorization.getStatus() != Status.VALID) {
                authorize(authorization, order.getExpires());
            }
        }
        Status ready = order.waitUntilReady(ORDER_TIMEOUT);
        if (ready != Status.READY) {
            throw failure("order " + order.getLocation() + " for " + names + " is " + ready, order.getError());
        }
        KeyPair key = newKey(config.keyType());
        order.execute(key);
        Status done = order.waitForCompletion(ORDER_TIMEOUT);
        if (done != Status.VALID) {
            throw failure("order " + order.getLocation() + " for " + names + " is " + done + " after finalizing", order.getError());
        }
        List<java.security.cert.X509Certificate> chain = order.getCertificate().getCertificateChain();
        LOG.info("ACME: certificate for {} issued by {} (serial {}, expires {})", names, chain.get(0).getIssuerX500Principal().getName(),
                chain.get(0).getSerialNumber().toString(16), chain.get(0).getNotAfter().toInstant());
        return new StoredCertificate(names, key.getPrivate(), chain, clock.instant());
    }

    /**
     * The configured profile when the CA's directory lists it. A CA that lists none has a single kind of certificate: the
     * order goes without (logged once), rather than leave the names without a certificate for a choice the CA does not
     * offer. A CA that lists others fails the order, to be retried with the backoff (the CA may add it; a reload may fix it).
     */
    private Optional<String> profile(Login account, List<String> names) throws AcmeException {
        if (config.profile().isEmpty()) {
            return Optional.empty();
        }
        String wanted = config.profile().get();
        java.util.Set<String> offered = account.getSession().getMetadata().getProfiles();
        if (offered.isEmpty()) {
            if (!toldNoProfiles) {
                toldNoProfiles = true;
                LOG.warn("ACME: the CA at {} lists no profiles (no meta.profiles in its directory): profile \"{}\" is ignored; the order for {} "
                        + "and all later ones get the CA's default (logged once)", config.directory(), wanted, names);
            }
            return Optional.empty();
        }
        if (!offered.contains(wanted)) {
            throw new ProfileNotOffered("the CA at " + config.directory() + " does not offer the profile \"" + wanted + "\" asked for "
                    + names + "; it offers " + String.join(", ", new java.util.TreeSet<>(offered))
                    + ": set the acme section's profile to one of them, or remove it");
        }
        return Optional.of(wanted);
    }

    private void authorize(Authorization authorization, Optional<java.time.Instant> orderExpires) throws Exception {
        String domain = authorization.getIdentifier().getDomain();
        String name = (authorization.isWildcard() ? "*." : "") + domain;
        AcmeConfig.Challenge type = config.challengeFor(name);
        LOG.info("ACME: proving control of {} with {}", name, type.wireName());
        switch (type) {
            case HTTP_01 -> {
                Http01Challenge challenge = find(authorization, Http01Challenge.class, name, type);
                if (!board.publish(challenge.getToken(), challenge.getAuthorization())) {
                    throw new ChallengeFailed("too many HTTP-01 tokens in flight (" + ChallengeBoard.MAX_TOKENS + ")", null);
                }
                try (FleetChallenges.Published shared = fleet == null ? FleetChallenges.Published.NONE
                        : fleet.publishHttp01(challenge.getToken(), challenge.getAuthorization(), ttl(authorization, orderExpires))) {
                    complete(challenge, name, type);
                } finally {
                    board.withdraw(challenge.getToken());
                }
            }
            case TLS_ALPN_01 -> {
                TlsAlpn01Challenge challenge = find(authorization, TlsAlpn01Challenge.class, name, type);
                KeyPair key = newKey(AcmeConfig.KeyType.RSA_2048); // acme4j signs the challenge certificate with SHA256withRSA
                java.security.cert.X509Certificate certificate = challenge.createCertificate(key, authorization.getIdentifier());
                installer.addAlpnChallenge(domain, key.getPrivate(), certificate);
                try (FleetChallenges.Published shared = fleet == null ? FleetChallenges.Published.NONE
                        : fleet.publishTlsAlpn01(domain, key.getPrivate(), certificate, ttl(authorization, orderExpires))) {
                    complete(challenge, name, type);
                } finally {
                    installer.removeAlpnChallenge(domain);
                }
            }
            case DNS_01 -> {
                Dns01Challenge challenge = find(authorization, Dns01Challenge.class, name, type);
                java.nio.file.Path script = config.hookFor(name).orElseThrow(() -> new IOException("no dns-01 hook for " + name));
                String record = challenge.getRRName(authorization.getIdentifier());
                record = record.endsWith(".") ? record.substring(0, record.length() - 1) : record;
                String value = challenge.getDigest();
                try {
                    hook.run(script, "set", record, value);
                } catch (IOException e) {
                    throw new ChallengeFailed(e.getMessage(), e);
                }
                try {
                    if (config.dnsPropagationSeconds() > 0) {
                        LOG.info("ACME: waiting {} s for {} to propagate (dns-propagation-seconds)", config.dnsPropagationSeconds(), record);
                        sleeper.sleep(Duration.ofSeconds(config.dnsPropagationSeconds()));
                    }
                    complete(challenge, name, type);
                } finally {
                    try {
                        hook.run(script, "clean", record, value);
                    } catch (IOException e) {
                        LOG.warn("ACME: {}", e.getMessage());
                    }
                }
            }
        }
    }

    private Duration ttl(Authorization authorization, Optional<java.time.Instant> orderExpires) {
        return FleetChallenges.ttl(clock.instant(), authorization.getExpires(), orderExpires);
    }

    private static <C extends Challenge> C find(Authorization authorization, Class<C> type, String name, AcmeConfig.Challenge wanted)
            throws AcmeException {
        return authorization.findChallenge(type).orElseThrow(() -> new ChallengeFailed("the CA offers no " + wanted.wireName()
                + " challenge for " + name + " (it offers " + authorization.getChallenges().stream().map(Challenge::getType).toList() + ")", null));
    }

    private static void complete(Challenge challenge, String name, AcmeConfig.Challenge type) throws Exception {
        challenge.trigger();
        Status status = challenge.waitForCompletion(CHALLENGE_TIMEOUT);
        if (status != Status.VALID) {
            String what = type.wireName() + " challenge for " + name + " is " + status;
            throw new ChallengeFailed(challenge.getError().map(p -> what + ": " + p).orElse(what), null);
        }
        LOG.info("ACME: {} challenge for {} is valid", type.wireName(), name);
    }

    private static AcmeException failure(String what, Optional<Problem> problem) {
        return problem.<AcmeException>map(p -> new AcmeServerException(p) {
            @Override
            public String getMessage() {
                return what + ": " + p;
            }
        }).orElseGet(() -> new AcmeException(what));
    }

    /**
     * RFC 9773 §4.1: an unauthenticated GET of {@code renewalInfo/<certificate's identifier>}, classified by §4.3.3:
     * 5xx and timeouts are temporary, everything else (a 4xx, a refused connection, an invalid answer) long-term.
     */
    @Override
    public RenewalInfoAnswer renewalInfo(StoredCertificate certificate) {
        try {
            Login account = login();
            Optional<URL> base = account.getSession().resourceUrlOptional(Resource.RENEWAL_INFO);
            if (base.isEmpty()) {
                return new RenewalInfoAnswer.Unsupported();
            }
            String root = base.get().toExternalForm();
            URL url = URI.create((root.endsWith("/") ? root : root + "/") + AriIdentifier.of(certificate.leaf())).toURL();
            RenewalInfo info = account.bindRenewalInfo(url);
            Optional<java.time.Instant> fetched = info.fetch();
            // acme4j adds Retry-After's seconds to the answer's Date (whole seconds, the CA's clock); the schedule runs on the
            // injected clock (the system's in production): kept as a delay from now, rounded up to whole seconds.
            long delay = -Math.floorDiv(-Duration.between(java.time.Instant.now(), fetched.orElse(java.time.Instant.now())).toMillis(), 1000);
            Optional<java.time.Instant> retryAfter = fetched.map(at -> clock.instant().plusSeconds(delay));
            java.time.Instant start = info.getSuggestedWindowStart();
            java.time.Instant end = info.getSuggestedWindowEnd();
            if (!end.isAfter(start)) {
                return new RenewalInfoAnswer.Failed(false, true, url + " answered a window that ends (" + end + ") before it starts (" + start + ")");
            }
            return new RenewalInfoAnswer.Window(start, end, info.getExplanation().map(URL::toString), retryAfter);
        } catch (AcmeProtocolException | IllegalArgumentException | java.time.DateTimeException e) {
            return new RenewalInfoAnswer.Failed(false, true, "invalid answer: " + e.getMessage());
        } catch (AcmeServerException e) {
            return new RenewalInfoAnswer.Failed("serverInternal".equals(AcmeUtils.stripErrorPrefix(String.valueOf(e.getType()))), false,
                    CertificateManager.describe(e));
        } catch (AcmeNetworkException e) {
            boolean refused = e.getCause() instanceof java.net.ConnectException || e.getCause() instanceof java.net.UnknownHostException;
            return new RenewalInfoAnswer.Failed(!refused, false, CertificateManager.describe(e));
        } catch (AcmeException e) {
            // acme4j's "HTTP 503" for an error answer without a problem document
            String message = String.valueOf(e.getMessage());
            return new RenewalInfoAnswer.Failed(message.matches("HTTP 5\\d\\d"), false, message);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return new RenewalInfoAnswer.Failed(false, false, CertificateManager.describe(e));
        }
    }

    /** The account: the stored key and URL when there are both, otherwise registered (or found again by its key) at the CA. */
    private Login login() throws AcmeException, IOException, GeneralSecurityException {
        if (login != null) {
            return login;
        }
        Session session = new Session(config.directory(), provider());
        String directory = config.directory().toString();
        Optional<AcmeStore.StoredAccount> stored = store.account(directory);
        if (stored.isPresent() && stored.get().location().isPresent()) {
            login = session.login(URI.create(stored.get().location().get()).toURL(), stored.get().key());
            LOG.info("ACME: using the stored account {} at {}", stored.get().location().get(), directory);
            updateContacts(login.getAccount());
            return login;
        }
        KeyPair key = stored.map(AcmeStore.StoredAccount::key).orElse(null);
        if (key == null) {
            key = newKey(AcmeConfig.KeyType.ECDSA_P256);
            store.saveAccount(directory, key, ""); // kept before registering: a key the CA knows is never lost
        }
        AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(key);
        config.contacts().forEach(builder::addContact);
        Account account = builder.create(session);
        URL location = account.getLocation();
        store.saveAccount(directory, key, location.toString());
        LOG.info("ACME: account {} registered at {} (contacts {})", location, directory, config.contacts());
        login = session.login(location, key);
        return login;
    }

    /** The stored account's contacts at the CA, made the acme section's when they differ (a reload or restart changed {@code contact}). */
    private void updateContacts(Account account) throws AcmeException {
        List<URI> wanted = config.contacts().stream().map(c -> URI.create(c.toString())).toList();
        if (new java.util.HashSet<>(account.getContacts()).equals(new java.util.HashSet<>(wanted))) {
            return;
        }
        Account.EditableAccount edit = account.modify();
        edit.getContacts().clear();
        wanted.forEach(edit::addContact);
        edit.commit();
        LOG.info("ACME: account {} contacts updated to {}", account.getLocation(), wanted);
    }

    /** acme4j's provider for any directory URL, trusting the configured CA certificate(s) for the CA's own HTTPS. */
    private GenericAcmeProvider provider() throws IOException, GeneralSecurityException {
        if (config.caCertificatePath().isEmpty()) {
            return new GenericAcmeProvider();
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(config.caCertificatePath().get())) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return new GenericAcmeProvider() {
            @Override
            public HttpClient createHttpClient(NetworkSettings settings) {
                return HttpClient.newBuilder().connectTimeout(settings.getTimeout()).followRedirects(HttpClient.Redirect.NORMAL)
                        .sslContext(tls).build();
            }
        };
    }

    static KeyPair newKey(AcmeConfig.KeyType type) throws GeneralSecurityException {
        if (type == AcmeConfig.KeyType.RSA_2048) {
            KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
            rsa.initialize(2048);
            return rsa.generateKeyPair();
        }
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        return ec.generateKeyPair();
    }
}
