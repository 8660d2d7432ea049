package river.server;

import io.netty.handler.ssl.SslContext;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificates River obtains by ACME, one per order (a set of names), and the TLS-ALPN-01
 * challenges in flight; one per process ({@code RiverServer} owns it), living across reloads.
 *
 * <p>Thread-safe. Writers (the ACME client's threads) build every TLS context before publishing, so
 * the handshake path (event loops) only reads maps: a listener asks for the context of its own order
 * or, failing that, of the certificate installed for one configured name. An installed certificate
 * is used by the next handshake for its names; open connections keep the one they negotiated.
 */
public final class ManagedCertificates {
    private static final Logger LOG = LoggerFactory.getLogger(ManagedCertificates.class);
    /** Bounds: far above any real configuration, so that a runaway caller cannot grow the maps without end. */
    static final int MAX_CERTIFICATES = 4096;
    static final int MAX_CHALLENGES = 1024;

    /** By order: the sorted, lower-case, distinct names an order was for. */
    private final Map<List<String>, Installed> byOrder = new ConcurrentHashMap<>();
    /** By configured name ({@code a.com}, {@code *.a.com}): the certificate installed last whose order named it. */
    private final Map<String, Installed> byName = new ConcurrentHashMap<>();
    private final Map<String, SslContext> challenges = new ConcurrentHashMap<>();
    /** Where a fleet's other members publish their TLS-ALPN-01 challenges; NONE outside fleet mode. */
    private volatile SharedAlpnChallenges shared = SharedAlpnChallenges.NONE;
    /** The profiles of the live listeners using managed certificates; guarded by {@code this}. */
    private final Map<Object, TlsContexts.Profile> users = new WeakHashMap<>();

    /** One installed certificate: its key and chain, the leaf's names and expiry, a context per profile. */
    static final class Installed {
        final List<String> order;
        final PrivateKey key;
        final List<X509Certificate> chain;
        final List<String> dnsNames;
        final long notAfterEpochSeconds;
        final Map<TlsContexts.Profile, SslContext> contexts = new ConcurrentHashMap<>();

        Installed(List<String> order, PrivateKey key, List<X509Certificate> chain, List<String> dnsNames) {
            this.order = order;
            this.key = key;
            this.chain = chain;
            this.dnsNames = dnsNames;
            this.notAfterEpochSeconds = chain.get(0).getNotAfter().toInstant().getEpochSecond();
        }
    }

    /**
     * Installs or replaces the certificate for exactly these names (one ACME order); the next handshake
     * for any of them uses it; open connections keep theirs. Builds the SslContext(s) once here.
     *
     * @param names the order's names ({@code example.com}, {@code *.example.com}); any case and order
     * @param chain the leaf first, then its issuers
     * @throws IllegalArgumentException when the names are empty or invalid, the leaf does not name them
     *     all (as dNSName subjectAltNames), the key does not match the leaf, or no TLS context can be
     *     built from them; the certificate in service stays
     */
    public void install(List<String> names, PrivateKey key, List<X509Certificate> chain) {
        List<String> order = orderOf(names);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate in the chain for " + order);
        }
        List<X509Certificate> certificates = List.copyOf(chain);
        List<String> dnsNames = dnsNames(certificates.get(0));
        for (String name : order) {
            if (!dnsNames.contains(name)) {
                throw new IllegalArgumentException("the certificate for " + order + " does not name " + name + " (it names " + dnsNames + ")");
            }
        }
        checkKeyMatches(key, certificates.get(0).getPublicKey(), order);
        Installed next = new Installed(order, key, certificates, dnsNames);
        synchronized (this) {
            if (!byOrder.containsKey(order) && byOrder.size() >= MAX_CERTIFICATES) {
                throw new IllegalStateException("more than " + MAX_CERTIFICATES + " managed certificates");
            }
            for (TlsContexts.Profile profile : new LinkedHashSet<>(users.values())) {
                next.contexts.put(profile, context(next, profile));
            }
            Installed before = byOrder.put(order, next);
            if (before != null) {
                for (String name : before.order) {
                    byName.remove(name, before);
                }
            }
            for (String name : order) {
                byName.put(name, next);
            }
        }
        LOG.info("managed certificate for {} installed (expires {}): used by new connections", String.join(", ", order),
                certificates.get(0).getNotAfter().toInstant());
    }

    /**
     * Removes the certificate installed for exactly these names, if any (the names left the
     * configuration); handshakes for them fall back as if none had been installed.
     */
    public synchronized void remove(List<String> names) {
        Installed gone = byOrder.remove(orderOf(names));
        if (gone != null) {
            for (String name : gone.order) {
                byName.remove(name, gone);
            }
            // Another order naming the same name still covers it.
            for (Installed other : byOrder.values()) {
                for (String name : other.order) {
                    byName.putIfAbsent(name, other);
                }
            }
        }
    }

    /** Whether a certificate covering this exact configured name (or wildcard) is installed. */
    public boolean covers(String name) {
        return byName.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /**
     * TLS-ALPN-01 (RFC 8737): while present, a handshake for {@code name} offering ALPN "acme-tls/1" gets
     * this self-signed challenge certificate and ALPN acme-tls/1, and the connection is closed after
     * the handshake.
     *
     * @throws IllegalArgumentException when no TLS context can be built from the key and certificate
     * @throws IllegalStateException when {@value #MAX_CHALLENGES} challenges are already in flight
     */
    public void addAlpnChallenge(String name, PrivateKey key, X509Certificate challengeCertificate) {
        String host = name.toLowerCase(Locale.ROOT);
        SslContext context;
        try {
            context = TlsContexts.alpnChallenge(key, challengeCertificate);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("TLS-ALPN-01 challenge certificate for " + host + ": " + e.getMessage(), e);
        }
        synchronized (this) {
            if (!challenges.containsKey(host) && challenges.size() >= MAX_CHALLENGES) {
                throw new IllegalStateException("more than " + MAX_CHALLENGES + " TLS-ALPN-01 challenges in flight");
            }
            challenges.put(host, context);
        }
        LOG.info("TLS-ALPN-01 challenge for {} answered on listeners with acme-domains", host);
    }

    public void removeAlpnChallenge(String name) {
        challenges.remove(name.toLowerCase(Locale.ROOT));
    }

    /**
     * Where to look for a TLS-ALPN-01 challenge this process does not hold: another fleet member may be the one
     * ordering while the CA reaches this one (the wiring sets it once; its lookups follow the current ACME client).
     */
    public void shareAlpnChallenges(SharedAlpnChallenges source) {
        shared = source;
    }

    /** Expiry per DNS name of installed certificates, for metrics: seconds since the epoch, the soonest where two name one. */
    public Map<String, Long> expiryByName() {
        Map<String, Long> expiry = new TreeMap<>();
        for (Installed c : byOrder.values()) {
            for (String name : c.dnsNames) {
                expiry.merge(name, c.notAfterEpochSeconds, Math::min);
            }
        }
        return expiry;
    }

    // ---- for ServerTls --------------------------------------------------------------------------

    /** The challenge context for a server name (lower case) the client asked for with acme-tls/1, or null. */
    SslContext challenge(String serverName) {
        return challenges.get(serverName);
    }

    /**
     * The challenge context another member published for {@code serverName} (lower case), completing with null when
     * there is none; null at once when nothing is shared. The context is built where the lookup completes (not on the
     * event loop that asked); one that cannot be built is logged and answered as none.
     */
    CompletionStage<SslContext> sharedChallenge(String serverName) {
        SharedAlpnChallenges source = shared;
        if (source == SharedAlpnChallenges.NONE) {
            return null;
        }
        return source.lookup(serverName).thenApply(found -> {
            if (found == null) {
                return null;
            }
            try {
                return TlsContexts.alpnChallenge(found.key(), found.certificate());
            } catch (SSLException | RuntimeException e) {
                LOG.warn("TLS-ALPN-01 challenge for {} published by another River: unusable ({})", serverName, e.getMessage());
                return null;
            }
        });
    }

    /** The certificate a listener of {@code order} serves for {@code configured}, one of its names: its order's, else the name's. */
    Installed certificate(List<String> order, String configured) {
        Installed mine = byOrder.get(order);
        return mine != null ? mine : byName.get(configured);
    }

    /** The listener's order's certificate, or null. */
    Installed certificate(List<String> order) {
        return byOrder.get(order);
    }

    /**
     * Registers a listener using managed certificates with its profile and builds, now and off the
     * event loops, the contexts every installed certificate needs for it; contexts for profiles no
     * live listener uses any more are dropped. The registration ends when the listener is collected.
     */
    synchronized void use(Object listener, TlsContexts.Profile profile) {
        users.put(listener, profile);
        Set<TlsContexts.Profile> live = new LinkedHashSet<>(users.values());
        for (Installed c : byOrder.values()) {
            c.contexts.keySet().retainAll(live);
            if (!c.contexts.containsKey(profile)) {
                try {
                    c.contexts.put(profile, context(c, profile));
                } catch (IllegalArgumentException e) {
                    LOG.error("managed certificate for {}: {}", c.order, e.getMessage());
                }
            }
        }
    }

    private static SslContext context(Installed c, TlsContexts.Profile profile) {
        try {
            return TlsContexts.server(profile, c.key, c.chain);
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("certificate for " + c.order + ": " + e.getMessage(), e);
        }
    }

    /** The key an order is filed under: its names, lower case, each once, sorted. */
    static List<String> orderOf(Collection<String> names) {
        TreeSet<String> order = new TreeSet<>();
        for (String n : names) {
            order.add(n.strip().toLowerCase(Locale.ROOT));
        }
        if (order.isEmpty() || order.contains("")) {
            throw new IllegalArgumentException("an order needs at least one name, and no empty one: " + names);
        }
        return List.copyOf(order);
    }

    /** The leaf's dNSName subjectAltNames, lower case. */
    static List<String> dnsNames(X509Certificate leaf) {
        List<String> dns = new ArrayList<>();
        try {
            Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (Integer.valueOf(2).equals(entry.get(0))) {
                        dns.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("unreadable subjectAltName: " + e.getMessage(), e);
        }
        return List.copyOf(dns);
    }

    /** Fails unless {@code key} signs what {@code publicKey} verifies (also what the ACME store checks its files with). */
    public static void checkKeyMatches(PrivateKey key, PublicKey publicKey, List<String> order) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA"; // BouncyCastle names its EC keys ECDSA
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("certificate for " + order + ": unsupported key type " + key.getAlgorithm());
        };
        try {
            byte[] probe = "river: does the key match the certificate".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IllegalArgumentException("certificate for " + order + ": the key does not match the certificate");
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("certificate for " + order + ": the key does not match the certificate (" + e.getMessage() + ")", e);
        }
    }

    /** For ServerTls: the managed names' expiry a listener of {@code order} with these configured names serves. */
    Map<String, Long> expiryFor(List<String> order, List<String> configured) {
        Map<String, Long> expiry = new HashMap<>();
        for (String name : configured) {
            Installed c = certificate(order, name);
            if (c != null) {
                for (String dns : c.dnsNames) {
                    expiry.merge(dns, c.notAfterEpochSeconds, Math::min);
                }
            }
        }
        return expiry;
    }
}
