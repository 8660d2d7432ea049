package river.kdl;

/** A place in a KDL source text: 1-based line and column (columns count Unicode code points). */
public record KdlPosition(int line, int column) {
    @Override
    public String toString() {
        return line + ":" + column;
    }
}
