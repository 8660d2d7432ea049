package river.service;

import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import river.acme.AcmeService;
import river.acme.CertificateInstaller;
import river.config.ListenerConfig;
import river.config.RiverConfig;
import river.config.ServiceConfig;

/**
 * Connects the ACME client to the running server: the sets of names to manage (each listener's acme-domains,
 * one certificate per distinct set), the HTTP-01 tokens for the challenge module, and where new certificates go.
 */
final class AcmeWiring implements CertificateInstaller {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AcmeWiring.class);
    private static final java.util.concurrent.CompletionStage<String> NO_ANSWER =
            java.util.concurrent.CompletableFuture.completedFuture(null);
    private final river.server.ManagedCertificates managed;
    private final java.util.function.Supplier<io.prometheus.metrics.model.registry.PrometheusRegistry> registry;
    private river.acme.AcmeMetrics metrics;
    private final Map<List<String>, List<X509Certificate>> installed = new ConcurrentHashMap<>();
    private volatile AcmeService service;
    private final List<Wait> waits = new java.util.concurrent.CopyOnWriteArrayList<>();
    private river.acme.ChallengeListener challengeListener;

    /** {@code registry} is asked only once an acme section is opened: a River without ACME makes no metrics registry for it. */
    AcmeWiring(river.server.ManagedCertificates managed, java.util.function.Supplier<io.prometheus.metrics.model.registry.PrometheusRegistry> registry) {
        this.managed = managed;
        this.registry = registry;
        managed.shareAlpnChallenges(this::tlsAlpn01Challenge);
    }

    private synchronized river.acme.AcmeMetrics metrics() {
        if (metrics == null) {
            metrics = new river.acme.AcmeMetrics(registry.get());
        }
        return metrics;
    }

    /** The distinct sets of managed names of a configuration, in listener order. */
    static List<List<String>> nameSets(RiverConfig config) {
        Set<List<String>> sets = new LinkedHashSet<>();
        for (ServiceConfig s : config.services()) {
            for (ListenerConfig l : s.listeners()) {
                if (!l.acmeDomains().isEmpty()) {
                    sets.add(l.acmeDomains());
                }
            }
        }
        return new ArrayList<>(sets);
    }

    /** Opens the store and installs what it holds (River refuses to start when this fails); ordering starts with {@link #start}. */
    void open(RiverConfig config) throws IOException {
        if (config.acme().isPresent() && service == null) {
            service = AcmeService.open(config.acme().get(), this, nameSets(config), metrics());
            watch(service);
        }
    }

    /**
     * Binds the challenge-listener (if configured; adopting the socket an upgrade handed over for its address) and
     * starts ordering.
     */
    void start(river.server.Transport transport, river.server.InheritedListeners inherited) throws IOException, InterruptedException {
        if (service != null) {
            java.util.Optional<river.config.ListenAddress> address = service.config().challengeListener();
            if (address.isPresent() && challengeListener == null) {
                challengeListener = river.acme.ChallengeListener.bind(address.get(), transport, this::keyAuthorization, inherited);
            }
            service.wake();
        }
    }

    /** The challenge-listener's socket, if there is one: an upgrade hands it over with the services' listeners. */
    java.util.Optional<io.netty.channel.Channel> challengeListenerChannel() {
        return java.util.Optional.ofNullable(challengeListener).map(river.acme.ChallengeListener::channel);
    }

    /** Where the challenge-listener listens, if there is one. */
    java.util.Optional<java.net.SocketAddress> challengeListenerAddress() {
        return java.util.Optional.ofNullable(challengeListener).map(river.acme.ChallengeListener::localAddress);
    }

    /**
     * The first half of a reload, before its generation is built: when the acme section is new or changed (provider,
     * store, contacts, renewal rule, challenges…), opens its client, the store checked (one River cannot write fails
     * the reload, as it fails a start) but nothing installed or ordered yet; null when the section is unchanged or
     * gone. Pass the result to {@link #reloaded} once the reload succeeds, or to {@link #abandon} if it fails.
     */
    AcmeService prepare(RiverConfig config) throws IOException {
        if (config.acme().isEmpty() || (service != null && service.config().equals(config.acme().get()))) {
            return null;
        }
        AcmeService prepared = AcmeService.open(config.acme().get(), this, List.of(), metrics());
        watch(prepared);
        return prepared;
    }

    /** A reload failed after {@link #prepare}: its client goes, the running one stays. */
    void abandon(AcmeService prepared) {
        if (prepared != null) {
            prepared.close();
        }
    }

    /**
     * The second half, once the reloaded generation serves: a changed section's old client is stopped (an order in
     * flight abandoned, the store's lock released; the certificates it installed stay in service) and the prepared
     * one manages the configuration's names (installing what its store holds, ordering what is missing or due by its
     * rule); an unchanged section's client manages the sets the reload adds.
     */
    void reloaded(RiverConfig config, AcmeService prepared, river.server.Transport transport) throws IOException, InterruptedException {
        AcmeService old = service;
        if (prepared == null && config.acme().isPresent()) {
            old.manage(nameSets(config));
            return;
        }
        if (old != null) {
            LOG.info("ACME: the acme section {}: stopping its client (an order in flight is abandoned and taken up by the new one)",
                    prepared == null ? "is gone" : "changed");
            old.close();
        }
        java.util.Optional<river.config.ListenAddress> wanted = prepared == null ? java.util.Optional.empty() : prepared.config().challengeListener();
        if (challengeListener != null && !wanted.equals(old.config().challengeListener())) {
            challengeListener.close();
            challengeListener = null;
        }
        service = prepared;
        if (prepared != null) {
            if (wanted.isPresent() && challengeListener == null) {
                challengeListener = river.acme.ChallengeListener.bind(wanted.get(), transport, this::keyAuthorization);
            }
            prepared.manage(nameSets(config));
        }
    }

    /**
     * The listeners went to a new process (an upgrade): this one orders nothing more, and releases the store's lock
     * (and a fleet's Redis lease) now rather than at the end of its drain, so that the new process orders at once.
     * An order in flight is abandoned: its HTTP-01 and TLS-ALPN-01 challenges would reach the new process anyway.
     */
    void handedOver(java.util.Collection<io.netty.channel.Channel> adopted) {
        AcmeService s = service;
        if (s != null) {
            LOG.info("ACME: listeners handed over: stopping this process's ACME client so that the new one orders");
            s.close();
        }
        if (challengeListener != null) {
            if (adopted.contains(challengeListener.channel())) {
                challengeListener.handedOver();
            } else {
                challengeListener.close();
            }
            challengeListener = null;
        }
    }

    AcmeService service() {
        return service;
    }

    /**
     * The key authorization of an HTTP-01 token in flight (this River's, or in fleet mode another member's), completing
     * with null when there is none: the challenge module's and the challenge-listener's lookup. Never blocks.
     */
    java.util.concurrent.CompletionStage<String> keyAuthorization(String token) {
        AcmeService s = service;
        return s == null ? NO_ANSWER : s.http01Answer(token);
    }

    /** Fleet mode: a TLS-ALPN-01 challenge another member published, for the listeners' certificate choice. Never blocks. */
    private java.util.concurrent.CompletionStage<river.server.SharedAlpnChallenges.ChallengeCertificate> tlsAlpn01Challenge(
            String name) {
        AcmeService s = service;
        return s == null ? river.server.SharedAlpnChallenges.NOTHING : s.tlsAlpn01Challenge(name);
    }

    /**
     * The sets of names a service waits for before it accepts: those of its listeners still without a certificate,
     * when every one of its listeners has acme-domains and no static certificate (a service with a cleartext listener
     * may be the one answering HTTP-01, one with a TLS-ALPN-01 name answers it itself, and a static certificate is the
     * manual's safety net before the first one: none of them waits); empty when it starts at once.
     */
    List<List<String>> awaitedBy(ServiceConfig config) {
        AcmeService s = service;
        if (s == null || config.listeners().isEmpty() || config.listeners().stream().anyMatch(l -> l.acmeDomains().isEmpty()
                || l.tls().map(river.config.TlsSettings::hasStaticCertificate).orElse(false))) {
            return List.of(); // a static certificate beside acme-domains is served until the first one arrives
        }
        // A name validated by TLS-ALPN-01 is answered on these very listeners: they must accept to get it.
        if (config.listeners().stream().flatMap(l -> l.acmeDomains().stream())
                .anyMatch(n -> s.config().challengeFor(n) == river.config.AcmeConfig.Challenge.TLS_ALPN_01)) {
            return List.of();
        }
        Set<List<String>> sets = new LinkedHashSet<>();
        for (ListenerConfig l : config.listeners()) {
            if (!s.manager().hasCertificate(l.acmeDomains())) {
                sets.add(l.acmeDomains());
            }
        }
        return new ArrayList<>(sets);
    }

    /**
     * Runs {@code then} once, on the ACME thread: with false when every set has a certificate, with true as soon as an
     * order for one of them fails (River then starts anyway, as the manual says). Kept here rather than on one client's
     * manager, so that a wait begun under one acme section ends under the next one a reload puts in its place.
     */
    void whenCertified(List<List<String>> sets, java.util.function.Consumer<Boolean> then) {
        Wait wait = new Wait(List.copyOf(sets), then, new java.util.concurrent.atomic.AtomicBoolean());
        waits.add(wait);
        check(wait);
    }

    private void check(Wait wait) {
        if (wait.sets().stream().allMatch(installed::containsKey) && wait.done().compareAndSet(false, true)) {
            waits.remove(wait);
            wait.then().accept(false);
        }
    }

    /** The services waiting for certificates hear of {@code client}'s installs and failures (once it has logged them). */
    private void watch(AcmeService client) {
        client.manager().onInstalled(names -> waits.forEach(this::check));
        client.manager().onFailed(this::failed);
    }

    /** An order failed: the services waiting for its names start anyway. */
    private void failed(List<String> names) {
        for (Wait wait : waits) {
            if (wait.sets().contains(names) && wait.done().compareAndSet(false, true)) {
                waits.remove(wait);
                wait.then().accept(true);
            }
        }
    }

    /** A service waiting for its certificates before it accepts. */
    private record Wait(List<List<String>> sets, java.util.function.Consumer<Boolean> then, java.util.concurrent.atomic.AtomicBoolean done) {}

    /** The chain installed for a set of names, if any. */
    List<X509Certificate> installed(List<String> names) {
        return installed.getOrDefault(List.copyOf(names), List.of());
    }

    /** Into the listeners' certificate choice (the next handshake for these names uses it); refused when key, chain or names disagree. */
    @Override
    public void install(List<String> names, PrivateKey key, List<X509Certificate> chain) {
        managed.install(names, key, chain);
        installed.put(List.copyOf(names), List.copyOf(chain));
    }

    @Override
    public void addAlpnChallenge(String name, PrivateKey key, X509Certificate challengeCertificate) {
        managed.addAlpnChallenge(name, key, challengeCertificate);
    }

    @Override
    public void removeAlpnChallenge(String name) {
        managed.removeAlpnChallenge(name);
    }

    void close() {
        if (challengeListener != null) {
            challengeListener.close();
            challengeListener = null;
        }
        AcmeService s = service;
        if (s != null) {
            s.close();
        }
    }
}
