package river.proxy;

/**
 * Thrown by a module's body or response-head phase to refuse what is passing through (a body over
 * its size limit): before the response head has gone out, the client gets {@code status} with
 * {@code body}; after, the response is cut short. Carries no stack trace: it is an answer, not a bug.
 */
public final class Rejected extends RuntimeException {
    private final int status;
    private final String body;

    public Rejected(int status, String body, String reason) {
        super(reason, null, false, false);
        this.status = status;
        this.body = body;
    }

    public int status() {
        return status;
    }

    public String body() {
        return body;
    }
}
