package river.acme;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP-01 tokens of the orders in flight, with their key authorizations: what River answers at
 * {@code /.well-known/acme-challenge/<token>} (the HTTP-01 module reads it through {@link #keyAuthorization}).
 * Bounded: an order has a few authorizations, and a token is removed once its challenge is decided.
 */
public final class ChallengeBoard {
    /** Far more than the authorizations of the orders one River has in flight at once. */
    static final int MAX_TOKENS = 1_000;
    private final ConcurrentHashMap<String, String> tokens = new ConcurrentHashMap<>();

    /** Publishes a token; false (nothing published) when the board is full. */
    boolean publish(String token, String keyAuthorization) {
        if (tokens.size() >= MAX_TOKENS) {
            return false;
        }
        tokens.put(token, keyAuthorization);
        return true;
    }

    void withdraw(String token) {
        tokens.remove(token);
    }

    /** The key authorization to answer for {@code token}, or null if no order in flight has it. Never blocks. */
    public String keyAuthorization(String token) {
        return token == null ? null : tokens.get(token);
    }

    int size() {
        return tokens.size();
    }
}
