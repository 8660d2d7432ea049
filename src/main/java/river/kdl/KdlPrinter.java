package river.kdl;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints a document in the canonical form of the KDL test suites: no comments, four-space indents,
 * properties sorted by key, strings quoted only when they must be (KDL 2 also prints bare string
 * values), and numbers in their simplest spelling.
 */
public final class KdlPrinter {

    private final KdlVersion version;

    private KdlPrinter(KdlVersion version) {
        this.version = version;
    }

    /** The canonical text of the document, in the syntax of the version it was read as. */
    public static String canonical(KdlDocument document) {
        StringBuilder out = new StringBuilder();
        new KdlPrinter(document.version()).nodes(document.nodes(), 0, out);
        return out.toString();
    }

    private void nodes(List<KdlNode> nodes, int depth, StringBuilder out) {
        for (KdlNode node : nodes) {
            out.append("    ".repeat(depth));
            type(node.type(), out);
            out.append(identifier(node.name()));
            for (KdlValue argument : node.arguments()) {
                out.append(' ');
                value(argument, out);
            }
            Map<String, KdlProperty> sorted = new TreeMap<>(node.properties());
            for (KdlProperty property : sorted.values()) {
                out.append(' ').append(identifier(property.key())).append('=');
                value(property.value(), out);
            }
            boolean printBlock = version == KdlVersion.V1 ? node.hasChildBlock() : !node.children().isEmpty();
            if (printBlock) {
                out.append(" {\n");
                nodes(node.children(), depth + 1, out);
                out.append("    ".repeat(depth)).append('}');
            }
            out.append('\n');
        }
    }

    private void type(String type, StringBuilder out) {
        if (type != null) {
            out.append('(').append(identifier(type)).append(')');
        }
    }

    private void value(KdlValue value, StringBuilder out) {
        type(value.type(), out);
        boolean v2 = version == KdlVersion.V2;
        if (value instanceof KdlValue.Str s) {
            out.append(v2 ? identifier(s.value()) : quoted(s.value()));
        } else if (value instanceof KdlValue.Num n) {
            out.append(number(n));
        } else if (value instanceof KdlValue.Bool b) {
            out.append(v2 ? "#" : "").append(b.value());
        } else if (value instanceof KdlValue.Null) {
            out.append(v2 ? "#null" : "null");
        }
    }

    private String number(KdlValue.Num n) {
        if (n.text() != null) {
            return n.text();
        }
        BigInteger value = (BigInteger) n.value();
        if (version == KdlVersion.V2 || n.radix() == 10) {
            return value.toString();
        }
        String prefix = n.radix() == 16 ? "0x" : n.radix() == 8 ? "0o" : "0b";
        return (value.signum() < 0 ? "-" : "") + prefix + value.abs().toString(n.radix());
    }

    private String identifier(String name) {
        boolean bare = version == KdlVersion.V2 ? KdlParser.isBareIdentifierV2(name) : KdlParser.isBareIdentifierV1(name);
        return bare ? name : quoted(name);
    }

    private String quoted(String s) {
        StringBuilder out = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '/' -> out.append(version == KdlVersion.V1 ? "\\/" : "/");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        out.append(String.format("\\u{%x}", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.append('"').toString();
    }
}
