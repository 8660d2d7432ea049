package river.kdl;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One KDL node: its name, optional type annotation, arguments in order, properties (the rightmost of
 * duplicate keys wins, insertion order kept), children, and where it starts.
 *
 * @param hasChildBlock whether a (possibly empty) {@code { }} block was written
 */
public record KdlNode(
        String name,
        String type,
        List<KdlValue> arguments,
        Map<String, KdlProperty> properties,
        List<KdlNode> children,
        boolean hasChildBlock,
        KdlPosition position) {

    public KdlNode {
        arguments = List.copyOf(arguments);
        properties = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(properties));
        children = List.copyOf(children);
    }

    /** The property with this key, if present. */
    public Optional<KdlProperty> property(String key) {
        return Optional.ofNullable(properties.get(key));
    }
}
