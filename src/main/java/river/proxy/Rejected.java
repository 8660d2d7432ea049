package river.proxy;

/**
 * Thrown by a module's body or response-head phase (or given as the failure of its stage) to refuse
 * what is passing through (a body over its size limit) or to replace the response: before the
 * response head has gone out, the client gets {@code status} with {@code body}, or the given answer;
 * after, the response is cut short. Carries no stack trace: it is an answer, not a bug.
 */
public final class Rejected extends RuntimeException {
    private final int status;
    private final String body;
    /** The whole answer to give instead, or null for {@code status} with {@code body}. */
    private final Verdict.Respond answer;

    public Rejected(int status, String body, String reason) {
        super(reason, null, false, false);
        this.status = status;
        this.body = body;
        this.answer = null;
    }

    /** Replaces the response with {@code answer} (which the engine sends or discards). */
    public Rejected(Verdict.Respond answer, String reason) {
        super(reason, null, false, false);
        this.status = answer.head().status().code();
        this.body = "";
        this.answer = answer;
    }

    /** The answer to give instead of the response, or null. */
    public Verdict.Respond answer() {
        return answer;
    }

    public int status() {
        return status;
    }

    public String body() {
        return body;
    }
}
