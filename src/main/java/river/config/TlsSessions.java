package river.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a service's TLS listeners let clients resume sessions (skipping the certificate and key
 * exchange of a full handshake): session tickets and a server-side session cache.
 *
 * @param tickets whether session tickets are issued (RFC 5077 for TLS 1.2, the TLS 1.3 NewSessionTicket)
 * @param ticketKeyPath a file of ticket keys shared with other servers (nginx's 48-byte
 *     {@code ssl_session_ticket_key} format, one or more keys, the first encrypting); empty: River's
 *     own keys, in memory and rotated every {@code ticketRotationMs}
 * @param ticketRotationMs how long an in-memory key encrypts new tickets; it then decrypts for as
 *     long again and is dropped
 * @param cacheSize sessions kept in the server-side cache (session IDs, TLS 1.2); 0 turns it off
 * @param timeoutMs how long a session can be resumed, by ticket or from the cache
 */
public record TlsSessions(boolean tickets, Optional<Path> ticketKeyPath, long ticketRotationMs, int cacheSize, long timeoutMs) {
    /** Tickets on with keys rotated hourly, 20,000 cached sessions (about BoringSSL's own bound), five minutes (nginx's ssl_session_timeout). */
    public static final TlsSessions DEFAULTS = new TlsSessions(true, Optional.empty(), 3_600_000, 20_000, 300_000);

    /** One ticket key: a 16-byte name, a 16-byte HMAC key and a 16-byte AES-128 key, in that order. */
    public static final int TICKET_KEY_BYTES = 48;
    /** A key file holds at most this many keys; more would be a mistake (a few overlap a rotation). */
    public static final int MAX_TICKET_KEYS = 16;
    /** RFC 8446 §4.6.1: a ticket may not live longer than seven days. */
    public static final long MAX_TIMEOUT_MS = 7L * 24 * 3600 * 1000;

    public TlsSessions {
        if (ticketKeyPath.isPresent() && !tickets) {
            throw new IllegalArgumentException("a ticket key file with tickets off");
        }
        if (ticketRotationMs <= 0 || cacheSize < 0 || timeoutMs < 1000 || timeoutMs > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("tls-sessions out of range");
        }
    }

    /** Whether a client can resume at all. */
    public boolean resumable() {
        return tickets || cacheSize > 0;
    }

    /**
     * Reads a ticket key file, failing with the reason unless it holds 1 to {@value #MAX_TICKET_KEYS}
     * whole 48-byte keys ({@code openssl rand 48 > ticket.key} makes one).
     */
    public static byte[] readTicketKeys(Path path) throws IOException {
        long size = Files.size(path);
        if (size == 0 || size % TICKET_KEY_BYTES != 0 || size > (long) TICKET_KEY_BYTES * MAX_TICKET_KEYS) {
            throw new IOException(size + " bytes; a ticket key file holds 1 to " + MAX_TICKET_KEYS + " keys of " + TICKET_KEY_BYTES
                    + " bytes each (openssl rand 48 makes one; nginx's 80-byte keys are for AES-256, which River's TLS does not use for tickets)");
        }
        return Files.readAllBytes(path);
    }
}
