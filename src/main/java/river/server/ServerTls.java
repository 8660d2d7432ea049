package river.server;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.TlsSettings;

/**
 * A listener's TLS context, replaceable at runtime: when its certificate or key file changes on
 * disk, a new context is built and used for new connections; connections already open keep theirs.
 * A replacement that fails to load is logged and the previous certificate stays in use.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

    private final TlsSettings settings;
    private final String listener;
    private volatile SslContext current;
    private FileTime certModified;
    private FileTime keyModified;

    public ServerTls(TlsSettings settings, String listener) throws IOException {
        this.settings = settings;
        this.listener = listener;
        this.certModified = Files.getLastModifiedTime(settings.certPath());
        this.keyModified = Files.getLastModifiedTime(settings.keyPath());
        this.current = TlsContexts.server(settings);
    }

    /** The context for a new connection. */
    public SslContext context() {
        return current;
    }

    /**
     * Rebuilds the context when the certificate or key changed since the last look. Blocking file
     * work: call it off the event loops. Returns true when a new certificate was taken into use.
     */
    public synchronized boolean reloadIfChanged() {
        try {
            FileTime cert = Files.getLastModifiedTime(settings.certPath());
            FileTime key = Files.getLastModifiedTime(settings.keyPath());
            if (cert.equals(certModified) && key.equals(keyModified)) {
                return false;
            }
            SslContext next = TlsContexts.server(settings);
            certModified = cert;
            keyModified = key;
            current = next;
            LOG.info("listener {}: new certificate {} in use for new connections", listener, settings.certPath());
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("listener {}: could not load the changed certificate, keeping the previous one: {}", listener, e.getMessage());
            return false;
        }
    }
}
