package river.kdl;

import java.util.List;

/** A parsed KDL document: its top-level nodes and the language version it was read as. */
public record KdlDocument(List<KdlNode> nodes, KdlVersion version) {
    public KdlDocument {
        nodes = List.copyOf(nodes);
    }
}
