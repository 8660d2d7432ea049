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
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

    private final String listener;
    private final Certificate fallback;
    private final Map<String, Certificate> exact = new HashMap<>();
    private final Map<String, Certificate> wildcard = new HashMap<>();
    private final List<Certificate> all = new ArrayList<>();

    private final boolean offerH2;

    /** @param offerH2 whether ALPN offers HTTP/2 besides HTTP/1.1 */
    public ServerTls(TlsSettings settings, String listener, boolean offerH2) throws IOException {
        this.listener = listener;
        this.offerH2 = offerH2;
        this.fallback = new Certificate(settings, settings.certPath(), settings.keyPath(), settings.ocspResponsePath());
        all.add(fallback);
        for (TlsSettings.SniCertificate sni : settings.sni()) {
            Certificate c = new Certificate(settings, sni.certPath(), sni.keyPath(), sni.ocspResponsePath());
            all.add(c);
            if (sni.serverName().startsWith("*.")) {
                wildcard.put(sni.serverName().substring(2), c);
            } else {
                exact.put(sni.serverName(), c);
            }
        }
    }

    /**
     * Whether this listener has a certificate to serve, for readiness ({@code GET /ready}). Certificates
     * read from files are loaded when this object is built, so always; the hook for ACME (issue 17):
     * a listener whose certificate is being issued answers false until the first one is installed.
     */
    public boolean certificateReady() {
        return true;
    }

    /** The TLS implementation serving this listener ("BoringSSL" or "JDK"), for the startup log. */
    public String implementation() {
        return TlsContexts.implementation(fallback.context);
    }

    private final java.util.concurrent.atomic.LongAdder handshakes = new java.util.concurrent.atomic.LongAdder();

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
            String name = serverName.toLowerCase(Locale.ROOT);
            Certificate c = exact.get(name);
            if (c == null) {
                int dot = name.indexOf('.');
                c = dot > 0 ? wildcard.get(name.substring(dot + 1)) : null;
            }
            if (c != null) {
                return c.context;
            }
        }
        return fallback.context;
    }

    /**
     * Rebuilds the contexts whose files changed since the last look. Blocking file work: call it off
     * the event loops.
     */
    public synchronized void reloadIfChanged() {
        for (Certificate c : all) {
            c.reloadIfChanged();
        }
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

        Certificate(TlsSettings settings, Path certPath, Path keyPath, Optional<Path> ocspPath) throws IOException {
            this.settings = settings;
            this.certPath = certPath;
            this.keyPath = keyPath;
            this.ocspPath = ocspPath;
            this.modified = modifiedTimes();
            this.context = TlsContexts.server(settings, certPath, keyPath, ocspPath, offerH2);
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
                SslContext next = TlsContexts.server(settings, certPath, keyPath, ocspPath, offerH2);
                modified = now;
                context = next;
                LOG.info("listener {}: new certificate {}{} in use for new connections", listener, certPath,
                        ocspPath.map(p -> " with OCSP response " + p).orElse(""));
            } catch (IOException | RuntimeException e) {
                LOG.error("listener {}: could not load the changed certificate {}, keeping the previous one: {}", listener, certPath, e.getMessage());
            }
        }
    }
}
