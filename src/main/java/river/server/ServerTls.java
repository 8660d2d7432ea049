package river.server;

import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.TlsSettings;

/**
 * A listener's TLS: its default certificate and any certificates chosen by SNI, each replaceable at
 * runtime. When a certificate or key file changes on disk, a new context is built and used for new
 * connections; open connections keep theirs. A replacement that fails to load is logged and the
 * previous certificate stays in use.
 *
 * <p>A listener with {@code acme-domains} also serves the {@link ManagedCertificates} installed for
 * them. Per handshake, by the ClientHello: a TLS-ALPN-01 challenge (acme-tls/1 offered and one pending
 * for the name), then the managed certificate for a managed name (an exact name before a wildcard),
 * then the static {@code sni} certificates, then the static default; with no static default, a name
 * that matches nothing (or a client that sends none, unless the listener's own managed certificate is
 * installed) gets an alert and the connection is closed.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    /** The pipeline names of the TLS handler and of {@link #newOutcomeCounter}, right after it. */
    public static final String TLS_HANDLER = "tls";
    public static final String OUTCOME_HANDLER = "tls-outcome";

    private final String listener;
    /** The static default certificate; null on a listener whose certificates all come from ACME. */
    private final Certificate fallback;
    private final Map<String, Certificate> exact = new HashMap<>();
    private final Map<String, Certificate> wildcard = new HashMap<>();
    private final List<Certificate> all = new ArrayList<>();

    private final boolean offerH2;

    /** Null on a listener without acme-domains. */
    private final ManagedCertificates managed;
    private final List<String> acmeDomains;
    /** The listener's order: its acme-domains as {@link ManagedCertificates} files them. */
    private final List<String> order;
    private final java.util.Set<String> acmeExact = new java.util.HashSet<>();
    /** For each wildcard acme-domain {@code *.a.com}: "a.com" → "*.a.com". */
    private final Map<String, String> acmeWildcards = new HashMap<>();
    private final TlsContexts.Profile profile;
    private final SessionResumption sessions;

    /** @param offerH2 whether ALPN offers HTTP/2 besides HTTP/1.1 */
    public ServerTls(TlsSettings settings, String listener, boolean offerH2) throws IOException {
        this(settings, listener, offerH2, null, List.of());
    }

    /** As the full constructor, with session resumption at the defaults and keys of its own. */
    public ServerTls(TlsSettings settings, String listener, boolean offerH2, ManagedCertificates managed, List<String> acmeDomains)
            throws IOException {
        this(settings, listener, offerH2, managed, acmeDomains, SessionResumption.of(river.config.TlsSessions.DEFAULTS));
    }

    /**
     * A listener that also serves the certificates {@code managed} holds for its {@code acmeDomains}
     * (none: an ordinary listener, and {@code managed} may be null), resuming sessions as the
     * service's {@code sessions} say.
     */
    public ServerTls(TlsSettings settings, String listener, boolean offerH2, ManagedCertificates managed, List<String> acmeDomains,
            SessionResumption sessions) throws IOException {
        this.listener = listener;
        this.offerH2 = offerH2;
        this.sessions = sessions;
        this.profile = TlsContexts.Profile.of(settings, offerH2, sessions);
        this.acmeDomains = List.copyOf(acmeDomains);
        if (!acmeDomains.isEmpty() && managed == null) {
            throw new IllegalArgumentException("listener " + listener + ": acme-domains without managed certificates");
        }
        if (acmeDomains.isEmpty() && !settings.hasStaticCertificate()) {
            throw new IllegalArgumentException("listener " + listener + ": TLS without a certificate");
        }
        this.managed = acmeDomains.isEmpty() ? null : managed;
        this.order = acmeDomains.isEmpty() ? List.of() : ManagedCertificates.orderOf(acmeDomains);
        for (String name : order) {
            if (name.startsWith("*.")) {
                acmeWildcards.put(name.substring(2), name);
            } else {
                acmeExact.add(name);
            }
        }
        this.fallback = settings.hasStaticCertificate()
                ? new Certificate(settings, settings.certPath().get(), settings.keyPath().get(), settings.ocspResponsePath()) : null;
        if (fallback != null) {
            all.add(fallback);
        }
        for (TlsSettings.SniCertificate sni : settings.sni()) {
            Certificate c = new Certificate(settings, sni.certPath(), sni.keyPath(), sni.ocspResponsePath());
            all.add(c);
            if (sni.serverName().startsWith("*.")) {
                wildcard.put(sni.serverName().substring(2), c);
            } else {
                exact.put(sni.serverName(), c);
            }
        }
        if (this.managed != null) {
            this.managed.use(this, profile);
        }
    }

    /**
     * Whether this listener has a certificate to serve, for readiness ({@code GET /ready}): a static
     * default (files are loaded when this object is built), or every acme-domain covered by an
     * installed managed certificate.
     */
    public boolean certificateReady() {
        if (fallback != null || managed == null || managed.certificate(order) != null) {
            return true;
        }
        for (String name : order) {
            if (!managed.covers(name)) {
                return false;
            }
        }
        return true;
    }

    /** The listener's acme-domains (empty for an ordinary TLS listener). */
    public List<String> acmeDomains() {
        return acmeDomains;
    }

    /** The TLS implementation serving this listener ("BoringSSL" or "JDK"), for the startup log. */
    public String implementation() {
        return all.isEmpty() ? TlsContexts.implementation() : TlsContexts.implementation(all.get(0).context);
    }

    private final java.util.concurrent.atomic.LongAdder handshakes = new java.util.concurrent.atomic.LongAdder();

    /** Why handshakes failed; a fixed set, so that the metric's labels stay bounded. */
    public enum HandshakeFailure {
        TIMEOUT, CLOSED, NO_SHARED_CIPHER, PROTOCOL_VERSION, CERTIFICATE, NOT_TLS, OTHER;

        /** The reason a failed handshake's cause names, judged from its type and message. */
        static HandshakeFailure of(Throwable cause) {
            if (cause instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
                return TIMEOUT;
            }
            if (cause instanceof java.nio.channels.ClosedChannelException) {
                return CLOSED;
            }
            if (cause instanceof io.netty.handler.ssl.NotSslRecordException) {
                return NOT_TLS;
            }
            String m = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("cipher")) {
                return NO_SHARED_CIPHER;
            } else if (m.contains("protocol") || m.contains("version")) {
                return PROTOCOL_VERSION;
            } else if (m.contains("certificate")) {
                return CERTIFICATE;
            } else if (m.contains("closed") || m.contains("eof")) {
                return CLOSED;
            }
            return OTHER;
        }

        /** The metric label: lower case. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final java.util.concurrent.atomic.LongAdder handshakesDone = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder[] handshakeFailures = new java.util.concurrent.atomic.LongAdder[HandshakeFailure.values().length];

    {
        for (int i = 0; i < handshakeFailures.length; i++) {
            handshakeFailures[i] = new java.util.concurrent.atomic.LongAdder();
        }
    }

    private final java.util.concurrent.atomic.LongAdder handshakesResumed = new java.util.concurrent.atomic.LongAdder();

    /** Handshakes completed on this listener by resuming a session (BoringSSL only; 0 with the JDK's TLS). */
    public long handshakesResumed() {
        return handshakesResumed.sum();
    }

    private static boolean resumed(io.netty.channel.ChannelHandlerContext ctx) {
        io.netty.handler.ssl.SslHandler tls = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        return tls != null && tls.engine() instanceof io.netty.handler.ssl.ReferenceCountedOpenSslEngine engine
                && io.netty.internal.tcnative.SSL.isSessionReused(engine.sslPointer());
    }

    /** Handshakes completed on this listener. */
    public long handshakesCompleted() {
        return handshakesDone.sum();
    }

    /** Handshakes that failed for {@code reason} on this listener. */
    public long handshakesFailed(HandshakeFailure reason) {
        return handshakeFailures[reason.ordinal()].sum();
    }

    /**
     * The handler, placed right after the TLS handler, that counts how the handshake ended and then
     * leaves the pipeline.
     */
    public ChannelHandler newOutcomeCounter() {
        return new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) throws Exception {
                if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent done) {
                    if (done.isSuccess()) {
                        handshakesDone.increment();
                        if (resumed(ctx)) {
                            handshakesResumed.increment();
                        }
                    } else {
                        handshakeFailures[HandshakeFailure.of(done.cause()).ordinal()].increment();
                    }
                    ctx.pipeline().remove(this);
                }
                ctx.fireUserEventTriggered(evt);
            }

            @Override
            public boolean isSharable() {
                return false;
            }
        };
    }

    /**
     * Each certificate's DNS names (or subject CN) with when it expires, seconds since the epoch: the
     * static ones and the managed ones this listener serves.
     */
    public Map<String, Long> expiryByName() {
        Map<String, Long> expiry = new java.util.TreeMap<>();
        for (Certificate c : all) {
            for (String name : c.names) {
                expiry.merge(name, c.notAfterEpochSeconds, Math::min);
            }
        }
        if (managed != null) {
            managed.expiryFor(order, order).forEach((name, notAfter) -> expiry.merge(name, notAfter, Math::min));
        }
        return expiry;
    }

    /** TLS sessions begun on this listener (connections that got as far as TLS). */
    public long handshakesStarted() {
        return handshakes.sum();
    }

    /**
     * The handler that starts TLS on a new connection, choosing the certificate by SNI if there are
     * several. A handshake (from the first byte, ClientHello included) not done within
     * {@code handshakeTimeoutMs} closes the connection.
     */
    public ChannelHandler newHandler(ByteBufAllocator alloc, long handshakeTimeoutMs) {
        handshakes.increment();
        if (managed != null) {
            return new ManagedSniHandler(this, handshakeTimeoutMs);
        }
        if (all.size() == 1) {
            io.netty.handler.ssl.SslHandler handler = fallback.context.newHandler(alloc);
            handler.setHandshakeTimeoutMillis(handshakeTimeoutMs);
            return handler;
        }
        return new SniHandler(this::contextFor, handshakeTimeoutMs);
    }

    /** The context for a requested server name: exact match, then a wildcard one label up, then the default. */
    SslContext contextFor(String serverName) {
        if (serverName != null) {
            Certificate c = staticFor(serverName.toLowerCase(Locale.ROOT));
            if (c != null) {
                return c.context;
            }
        }
        return fallback.context;
    }

    /** The static sni certificate for a lower-case name: exact, then a wildcard one label up; null when none. */
    private Certificate staticFor(String name) {
        Certificate c = exact.get(name);
        if (c == null) {
            int dot = name.indexOf('.');
            c = dot > 0 ? wildcard.get(name.substring(dot + 1)) : null;
        }
        return c;
    }

    /** What a handshake on a listener with acme-domains gets; {@code challenge}: a TLS-ALPN-01 one, closed once done. */
    record Selection(SslContext context, boolean challenge) {}

    /**
     * The context for a ClientHello on a listener with acme-domains (see the class comment for the
     * order); null when there is none and the handshake must fail. Reads maps only: event loops.
     *
     * @param serverName the SNI name, lower case, or null
     */
    Selection select(String serverName, boolean offersAcmeTls) {
        if (serverName != null) {
            if (offersAcmeTls) {
                SslContext challenge = managed.challenge(serverName);
                if (challenge != null) {
                    return new Selection(challenge, true);
                }
            }
            SslContext context = managedFor(serverName);
            if (context == null) {
                Certificate c = staticFor(serverName);
                context = c != null ? c.context : null;
            }
            if (context != null) {
                return new Selection(context, false);
            }
        }
        if (fallback != null) {
            return new Selection(fallback.context, false);
        }
        if (serverName == null) {
            ManagedCertificates.Installed mine = managed.certificate(order);
            SslContext context = mine == null ? null : mine.contexts.get(profile);
            return context == null ? null : new Selection(context, false);
        }
        return null;
    }

    /**
     * For a ClientHello offering acme-tls/1 for a name this listener manages (exactly: TLS-ALPN-01 validates no
     * wildcard) with no challenge of this process's: the challenge another fleet member published, completing with null
     * when there is none. Null at once when there is nothing to ask (the handshake is then chosen by {@link #select}).
     */
    java.util.concurrent.CompletionStage<SslContext> sharedChallenge(String serverName, boolean offersAcmeTls) {
        if (!offersAcmeTls || serverName == null || !acmeExact.contains(serverName) || managed.challenge(serverName) != null) {
            return null;
        }
        return managed.sharedChallenge(serverName);
    }

    /** The managed context for a name this listener manages: as an exact name first, then under its wildcard; else null. */
    private SslContext managedFor(String name) {
        SslContext context = null;
        if (acmeExact.contains(name)) {
            ManagedCertificates.Installed c = managed.certificate(order, name);
            context = c == null ? null : c.contexts.get(profile);
        }
        if (context == null) {
            int dot = name.indexOf('.');
            String configured = dot > 0 ? acmeWildcards.get(name.substring(dot + 1)) : null;
            if (configured != null) {
                ManagedCertificates.Installed c = managed.certificate(order, configured);
                context = c == null ? null : c.contexts.get(profile);
            }
        }
        return context;
    }

    /**
     * Rebuilds the contexts whose files changed since the last look. Blocking file work: call it off
     * the event loops.
     */
    public synchronized void reloadIfChanged() {
        for (Certificate c : all) {
            c.reloadIfChanged();
        }
        sessions.refresh();
    }

    /**
     * One certificate and key pair (and OCSP response, if any) with the context built from them;
     * an OCSP response is refreshed by its responder every few days, so its file is watched too.
     */
    private final class Certificate {
        private final TlsSettings settings;
        private final Path certPath;
        private final Path keyPath;
        private final Optional<Path> ocspPath;
        private volatile SslContext context;
        private List<FileTime> modified;
        private volatile List<String> names = List.of();
        private volatile long notAfterEpochSeconds;

        Certificate(TlsSettings settings, Path certPath, Path keyPath, Optional<Path> ocspPath) throws IOException {
            this.settings = settings;
            this.certPath = certPath;
            this.keyPath = keyPath;
            this.ocspPath = ocspPath;
            this.modified = modifiedTimes();
            this.context = TlsContexts.server(settings, certPath, keyPath, ocspPath, offerH2, sessions);
            readExpiry();
        }

        /** Reads the leaf certificate's names and expiry, for the expiry gauge; a file it cannot read leaves them unknown. */
        private void readExpiry() {
            try (java.io.InputStream in = Files.newInputStream(certPath)) {
                java.security.cert.X509Certificate leaf = (java.security.cert.X509Certificate)
                        java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
                List<String> dns = new ArrayList<>();
                java.util.Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
                if (alt != null) {
                    for (List<?> entry : alt) {
                        if (Integer.valueOf(2).equals(entry.get(0))) {
                            dns.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
                        }
                    }
                }
                if (dns.isEmpty()) {
                    dns.add(leaf.getSubjectX500Principal().getName());
                }
                names = List.copyOf(dns);
                notAfterEpochSeconds = leaf.getNotAfter().toInstant().getEpochSecond();
            } catch (IOException | java.security.cert.CertificateException | RuntimeException e) {
                LOG.debug("listener {}: could not read the expiry of {}: {}", listener, certPath, e.toString());
            }
        }

        private List<FileTime> modifiedTimes() throws IOException {
            List<FileTime> times = new ArrayList<>(List.of(Files.getLastModifiedTime(certPath), Files.getLastModifiedTime(keyPath)));
            if (ocspPath.isPresent()) {
                times.add(Files.getLastModifiedTime(ocspPath.get()));
            }
            return times;
        }

        void reloadIfChanged() {
            try {
                List<FileTime> now = modifiedTimes();
                if (now.equals(modified)) {
                    return;
                }
                SslContext next = TlsContexts.server(settings, certPath, keyPath, ocspPath, offerH2, sessions);
                modified = now;
                context = next;
                readExpiry();
                LOG.info("listener {}: new certificate {}{} in use for new connections", listener, certPath,
                        ocspPath.map(p -> " with OCSP response " + p).orElse(""));
            } catch (IOException | RuntimeException e) {
                LOG.error("listener {}: could not load the changed certificate {}, keeping the previous one: {}", listener, certPath, e.getMessage());
            }
        }
    }
}
