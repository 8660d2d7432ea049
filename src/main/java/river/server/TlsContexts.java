package river.server;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import river.config.TlsSettings;

/**
 * Server TLS contexts from a listener's settings: BoringSSL (netty-tcnative) when it loads, the
 * JDK's TLS otherwise; TLS 1.2 and 1.3 only (or 1.3 only), forward-secret AEAD suites only, and an
 * OCSP response stapled when one is configured (BoringSSL only).
 */
public final class TlsContexts {
    private static final List<String> TLS13_CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    private TlsContexts() {}

    /** The provider River uses: OpenSSL (BoringSSL) when available; {@code -Driver.tls=jdk} forces the JDK. */
    public static SslProvider provider() {
        if (!"jdk".equalsIgnoreCase(System.getProperty("river.tls")) && OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        return SslProvider.JDK;
    }

    /** What implements the TLS of contexts River builds now: "BoringSSL" (OpenSSL's name for it) or "JDK". */
    static String implementation() {
        return provider() == SslProvider.OPENSSL ? OpenSsl.versionString() : "JDK";
    }

    /** What implements a context's TLS, for the startup log: "BoringSSL" (OpenSSL's name for it) or "JDK". */
    static String implementation(SslContext context) {
        if (context instanceof PerEngine wrapped) {
            context = wrapped.delegate;
        }
        return context instanceof io.netty.handler.ssl.ReferenceCountedOpenSslContext ? OpenSsl.versionString() : "JDK";
    }

    /**
     * A server context for one certificate with the listener's protocol settings; ALPN offers h2
     * (when {@code offerH2}) and http/1.1. With {@code ocspResponse}, every handshake whose client
     * asks for the certificate's status (status_request) gets that response stapled. {@code sessions}
     * sets how clients resume sessions and holds the ticket keys.
     */
    public static SslContext server(TlsSettings tls, Path certPath, Path keyPath, Optional<Path> ocspResponse, boolean offerH2,
            SessionResumption sessions) throws IOException {
        byte[] ocsp = null;
        if (ocspResponse.isPresent()) {
            if (provider() != SslProvider.OPENSSL || !OpenSsl.isOcspSupported()) {
                throw new IOException("ocsp-response-path " + ocspResponse.get() + ": OCSP stapling needs BoringSSL (netty-tcnative), "
                        + "and this River uses the JDK's TLS" + (OpenSsl.isAvailable() ? " (-Driver.tls=jdk)" : ""));
            }
            try {
                ocsp = TlsSettings.readOcspResponse(ocspResponse.get());
            } catch (IOException e) {
                throw new IOException("ocsp-response-path " + ocspResponse.get() + ": " + e.getMessage(), e);
            }
        }
        try {
            SslContext context = configure(SslContextBuilder.forServer(certPath.toFile(), keyPath.toFile()), Profile.of(tls, offerH2, sessions))
                    .enableOcsp(ocsp != null)
                    .build();
            sessions.applyTo(context);
            return perEngine(context, ocsp, sessions);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("TLS certificate " + certPath + " / key " + keyPath + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a listener's contexts share besides the certificate: protocol versions, TLS 1.2 suites and
     * whether ALPN offers h2, and the service's session resumption (its ticket keys: so the same
     * object, not equal settings). Managed (ACME) certificates get one context per profile in use.
     */
    record Profile(String minVersion, List<String> ciphers, boolean offerH2, SessionResumption sessions) {
        Profile {
            ciphers = List.copyOf(ciphers);
        }

        static Profile of(TlsSettings tls, boolean offerH2, SessionResumption sessions) {
            return new Profile(tls.minVersion(), tls.ciphers(), offerH2, sessions);
        }
    }

    /** A server context for a certificate held in memory (an ACME certificate), with a listener's profile. */
    static SslContext server(Profile profile, PrivateKey key, List<X509Certificate> chain) throws IOException {
        SslContext context = configure(SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0])), profile).build();
        profile.sessions().applyTo(context);
        return perEngine(context, null, profile.sessions());
    }

    /** The ALPN protocol of TLS-ALPN-01 (RFC 8737). */
    static final String ACME_TLS_1 = "acme-tls/1";

    /**
     * A context serving a TLS-ALPN-01 challenge certificate: TLS 1.2 or 1.3 (RFC 8737 §4), River's
     * AEAD suites, and ALPN {@code acme-tls/1} only.
     */
    static SslContext alpnChallenge(PrivateKey key, X509Certificate certificate) throws SSLException {
        return SslContextBuilder.forServer(key, certificate)
                .sslProvider(provider())
                .protocols("TLSv1.3", "TLSv1.2")
                .ciphers(ciphers(List.of()))
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ACME_TLS_1))
                .build();
    }

    private static List<String> ciphers(List<String> tls12) {
        List<String> ciphers = new java.util.ArrayList<>(TLS13_CIPHERS);
        ciphers.addAll(tls12.isEmpty() ? TlsSettings.TLS12_CIPHERS : tls12);
        return ciphers;
    }

    private static SslContextBuilder configure(SslContextBuilder builder, Profile profile) {
        String[] protocols = profile.minVersion().equals("1.3") ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"};
        return builder.sslProvider(provider())
                .protocols(protocols)
                .ciphers(ciphers(profile.ciphers()))
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        profile.offerH2() ? new String[] {ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1}
                                : new String[] {ApplicationProtocolNames.HTTP_1_1}));
    }

    /** The context itself, or wrapped to set on each engine what BoringSSL takes per engine only. */
    private static SslContext perEngine(SslContext context, byte[] ocsp, SessionResumption sessions) {
        boolean noTickets = !sessions.settings().tickets() && context instanceof io.netty.handler.ssl.ReferenceCountedOpenSslContext;
        return ocsp == null && !noTickets ? context : new PerEngine(context, ocsp, noTickets);
    }

    /**
     * A BoringSSL context whose engines get, before their handshake starts (SniHandler's engines
     * too), what BoringSSL takes per engine: the OCSP response to staple, and SSL_OP_NO_TICKET when
     * tickets are off (Netty clears it on every engine for TLS 1.3, whatever the context says).
     */
    private static final class PerEngine extends DelegatingSslContext {
        private final SslContext delegate;
        private final byte[] ocspResponse;
        private final boolean noTickets;

        PerEngine(SslContext delegate, byte[] ocspResponse, boolean noTickets) {
            super(delegate);
            this.delegate = delegate;
            this.ocspResponse = ocspResponse;
            this.noTickets = noTickets;
        }

        @Override
        protected void initEngine(SSLEngine engine) {
            ReferenceCountedOpenSslEngine openSsl = (ReferenceCountedOpenSslEngine) engine;
            if (ocspResponse != null) {
                openSsl.setOcspResponse(ocspResponse);
            }
            if (noTickets) {
                io.netty.internal.tcnative.SSL.setOptions(openSsl.sslPointer(), io.netty.internal.tcnative.SSL.SSL_OP_NO_TICKET);
            }
        }
    }
}
