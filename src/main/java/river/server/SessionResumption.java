package river.server;

import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.TlsSessions;

/**
 * A service's TLS session resumption: the session cache's size and timeout, and the session ticket
 * keys every context of the service's listeners shares, so that a ticket one listener issued resumes
 * on another, and on the next configuration generation (a reload keeps this object while the
 * service's {@code tls-sessions} settings stay the same).
 *
 * <p>River's own keys are random, held in memory only, and rotated every {@code ticket-rotation-ms}:
 * the new key encrypts new tickets, the previous one still decrypts, the one before is dropped. With {@code ticket-key-path} the keys are
 * the file's, read again when it changes, the first encrypting. Rotation and re-reading happen in
 * {@link #refresh()}, off the event loops.
 */
public final class SessionResumption {
    private static final Logger LOG = LoggerFactory.getLogger(SessionResumption.class);

    private final TlsSessions settings;
    private final LongSupplier clockMs;
    private final SecureRandom random;
    /** The contexts to give new keys to; weak, so that a replaced certificate's context can go. Guarded by {@code this}. */
    private final Set<ReferenceCountedOpenSslContext> contexts = Collections.newSetFromMap(new WeakHashMap<>());
    /** The keys, the encrypting one first. Guarded by {@code this}. */
    private OpenSslSessionTicketKey[] keys;
    private long rotatedAtMs;
    private FileTime keyFileModified;

    private SessionResumption(TlsSessions settings, LongSupplier clockMs, SecureRandom random) throws IOException {
        this.settings = settings;
        this.clockMs = clockMs;
        this.random = random;
        if (settings.ticketKeyPath().isPresent()) {
            Path file = settings.ticketKeyPath().get();
            keyFileModified = Files.getLastModifiedTime(file);
            keys = fromFile(file);
        } else if (settings.tickets()) {
            keys = new OpenSslSessionTicketKey[] {newKey()};
        } else {
            keys = new OpenSslSessionTicketKey[0];
        }
        rotatedAtMs = clockMs.getAsLong();
    }

    /** Resumption as {@code settings} say, with keys rotated by the monotonic clock. */
    public static SessionResumption of(TlsSessions settings) throws IOException {
        return of(settings, () -> System.nanoTime() / 1_000_000);
    }

    /** As {@link #of(TlsSessions)}, rotating by {@code clockMs} (milliseconds, any origin): tests move it. */
    public static SessionResumption of(TlsSessions settings, LongSupplier clockMs) throws IOException {
        return new SessionResumption(settings, clockMs, new SecureRandom());
    }

    /** The settings this was built from. */
    public TlsSessions settings() {
        return settings;
    }

    /**
     * Applies the cache settings and, with tickets on, the keys to a context just built (a BoringSSL
     * one; the JDK's TLS keeps its own tickets, see docs/tls.md), and remembers it for rotations.
     */
    void applyTo(SslContext context) throws IOException {
        if (!(context instanceof ReferenceCountedOpenSslContext openSsl)) {
            if (!settings.tickets() || settings.ticketKeyPath().isPresent() || settings.cacheSize() == 0) {
                throw new IOException("tls-sessions: turning tickets or the cache off, and ticket-key-path, need BoringSSL "
                        + "(netty-tcnative); this River uses the JDK's TLS, which keeps its own tickets");
            }
            context.sessionContext().setSessionCacheSize(settings.cacheSize());
            context.sessionContext().setSessionTimeout((int) (settings.timeoutMs() / 1000));
            return;
        }
        OpenSslSessionContext sessions = openSsl.sessionContext();
        sessions.setSessionCacheEnabled(settings.cacheSize() > 0);
        if (settings.cacheSize() > 0) {
            sessions.setSessionCacheSize(settings.cacheSize());
        }
        // BoringSSL bounds a TLS 1.3 ticket's lifetime by this too, so it is the lifetime of every session.
        sessions.setSessionTimeout((int) (settings.timeoutMs() / 1000));
        if (settings.tickets()) {
            synchronized (this) {
                sessions.setTicketKeys(keys);
                contexts.add(openSsl);
            }
        }
    }

    /**
     * Rotates River's own key when it has encrypted for {@code ticket-rotation-ms}, or re-reads a
     * changed key file (a file that does not hold whole keys is logged and the previous keys kept),
     * and gives the new keys to every live context. Blocking file work: call it off the event loops.
     */
    public synchronized void refresh() {
        if (!settings.tickets()) {
            return;
        }
        OpenSslSessionTicketKey[] next;
        if (settings.ticketKeyPath().isPresent()) {
            Path file = settings.ticketKeyPath().get();
            try {
                FileTime modified = Files.getLastModifiedTime(file);
                if (modified.equals(keyFileModified)) {
                    return;
                }
                next = fromFile(file);
                keyFileModified = modified;
                LOG.info("TLS session ticket keys: {} changed, {} key(s) in use", file, next.length);
            } catch (IOException e) {
                LOG.error("TLS session ticket keys: could not read the changed {}, keeping the previous keys: {}", file, e.getMessage());
                return;
            }
        } else {
            long now = clockMs.getAsLong();
            if (now - rotatedAtMs < settings.ticketRotationMs()) {
                return;
            }
            rotatedAtMs = now;
            next = new OpenSslSessionTicketKey[] {newKey(), keys[0]};
        }
        keys = next;
        for (ReferenceCountedOpenSslContext c : contexts) {
            c.sessionContext().setTicketKeys(keys);
        }
    }

    /**
     * River's own ticket keys, for an upgrade to hand to the new instance: the 48-byte keys one after
     * another, the encrypting one first, and how long ago it began encrypting. Empty when the service
     * has no TLS listener, tickets are off, or the keys are a {@code ticket-key-path} file's (the new
     * instance reads the file). {@link #toString()} never shows the key bytes.
     */
    public record HandedKeys(byte[] keys, long currentAgeMs) {
        public HandedKeys {
            if (keys.length == 0 || keys.length % TlsSessions.TICKET_KEY_BYTES != 0 || currentAgeMs < 0) {
                throw new IllegalArgumentException("ticket keys are whole " + TlsSessions.TICKET_KEY_BYTES + "-byte keys and a non-negative age");
            }
        }

        @Override
        public String toString() {
            return (keys.length / TlsSessions.TICKET_KEY_BYTES) + " ticket key(s), the current one " + currentAgeMs + " ms old";
        }
    }

    /** This service's own keys to hand over in an upgrade, if it has any (see {@link HandedKeys}). */
    public synchronized java.util.Optional<HandedKeys> handOver() {
        if (!ownKeys() || contexts.isEmpty()) {
            return java.util.Optional.empty();
        }
        byte[] bytes = new byte[keys.length * TlsSessions.TICKET_KEY_BYTES];
        for (int i = 0; i < keys.length; i++) {
            int at = i * TlsSessions.TICKET_KEY_BYTES;
            System.arraycopy(keys[i].name(), 0, bytes, at, 16);
            System.arraycopy(keys[i].hmacKey(), 0, bytes, at + 16, 16);
            System.arraycopy(keys[i].aesKey(), 0, bytes, at + 32, 16);
        }
        return java.util.Optional.of(new HandedKeys(bytes, Math.max(0, clockMs.getAsLong() - rotatedAtMs)));
    }

    /** Whether this service encrypts tickets with River's own keys, which an upgrade hands over. */
    public boolean ownKeys() {
        return settings.tickets() && settings.ticketKeyPath().isEmpty();
    }

    /**
     * Takes the keys the upgraded instance handed over in place of the random one made at start, so
     * that tickets it issued resume here; its current key goes on rotating when it is {@code
     * ticket-rotation-ms} old. Ignored when this service does not use River's own keys.
     */
    public synchronized void adopt(HandedKeys handed) {
        if (!ownKeys()) {
            return;
        }
        OpenSslSessionTicketKey[] next = new OpenSslSessionTicketKey[handed.keys().length / TlsSessions.TICKET_KEY_BYTES];
        for (int i = 0; i < next.length; i++) {
            next[i] = key(handed.keys(), i * TlsSessions.TICKET_KEY_BYTES);
        }
        keys = next;
        rotatedAtMs = clockMs.getAsLong() - handed.currentAgeMs();
        for (ReferenceCountedOpenSslContext c : contexts) {
            c.sessionContext().setTicketKeys(keys);
        }
    }

    /** The names of the ticket keys in use, the encrypting one first, for tests. */
    synchronized List<byte[]> keyNames() {
        List<byte[]> names = new ArrayList<>();
        for (OpenSslSessionTicketKey k : keys) {
            names.add(k.name());
        }
        return names;
    }

    private OpenSslSessionTicketKey newKey() {
        byte[] bytes = new byte[TlsSessions.TICKET_KEY_BYTES];
        random.nextBytes(bytes);
        return key(bytes, 0);
    }

    private static OpenSslSessionTicketKey[] fromFile(Path file) throws IOException {
        byte[] bytes = TlsSessions.readTicketKeys(file);
        OpenSslSessionTicketKey[] read = new OpenSslSessionTicketKey[bytes.length / TlsSessions.TICKET_KEY_BYTES];
        for (int i = 0; i < read.length; i++) {
            read[i] = key(bytes, i * TlsSessions.TICKET_KEY_BYTES);
        }
        return read;
    }

    /** nginx's 48-byte layout: name, HMAC-SHA256 key, AES-128 key, 16 bytes each. */
    private static OpenSslSessionTicketKey key(byte[] bytes, int at) {
        return new OpenSslSessionTicketKey(Arrays.copyOfRange(bytes, at, at + 16), Arrays.copyOfRange(bytes, at + 16, at + 32),
                Arrays.copyOfRange(bytes, at + 32, at + 48));
    }
}
