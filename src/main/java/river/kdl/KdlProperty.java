package river.kdl;

/** A {@code key=value} entry of a node, with the position of its key. */
public record KdlProperty(String key, KdlValue value, KdlPosition position) {}
