package river.kdl;

/** A syntax error in a KDL text, located at the line and column where parsing stopped. */
public final class KdlParseException extends Exception {
    private static final long serialVersionUID = 1L;
    private final KdlPosition position;
    private final String reason;
    private final int offset;

    KdlParseException(String reason, KdlPosition position, int offset) {
        super(position + ": " + reason);
        this.reason = reason;
        this.position = position;
        this.offset = offset;
    }

    /** Where the error was found. */
    public KdlPosition position() {
        return position;
    }

    /** What is wrong, without the position. */
    public String reason() {
        return reason;
    }

    /** Code-point offset of the error; used to pick the more telling error of two parses. */
    int offset() {
        return offset;
    }
}
