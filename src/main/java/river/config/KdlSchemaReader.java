package river.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import river.kdl.KdlNode;
import river.kdl.KdlPosition;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/**
 * Typed access to KDL nodes with located errors, shared by the readers of River's schema: every
 * wrong value, unknown property or unexpected child is recorded with its line and column.
 */
abstract class KdlSchemaReader {
    protected final Problems problems;
    protected final ValueRules rules;

    KdlSchemaReader(Problems problems, ValueRules rules) {
        this.problems = problems;
        this.rules = rules;
    }

    // ---- typed access with located errors --------------------------------------------------------

    protected Pattern requiredRegex(KdlNode node) {
        String s = requiredString(node, "pattern");
        return s == null ? null : rules.regex(s, "pattern", where(node.property("pattern").get().value().position()));
    }

    protected String requiredString(KdlNode node, String key) {
        Optional<KdlProperty> p = node.property(key);
        if (p.isEmpty()) {
            problems.add(where(node.position()), node.name() + " needs the property " + key + "=");
            return null;
        }
        return stringOrNull(p.get());
    }

    protected Integer requiredPositiveInt(KdlNode node, String key) {
        Optional<KdlProperty> p = node.property(key);
        if (p.isEmpty()) {
            problems.add(where(node.position()), node.name() + " needs the property " + key + "=");
            return null;
        }
        return positiveInt(p.get().value(), key);
    }

    protected String stringOrNull(KdlProperty property) {
        return string(property.value(), property.key());
    }

    protected String stringOrEmpty(KdlProperty property) {
        String s = stringOrNull(property);
        return s == null ? "" : s;
    }

    protected String string(KdlValue value, String what) {
        if (value == null) {
            return null;
        }
        if (value instanceof KdlValue.Str s) {
            return s.value();
        }
        problems.add(where(value.position()), what + " expects a string, found " + value.kindName());
        return null;
    }

    protected Boolean bool(KdlValue value, String what) {
        if (value == null) {
            return null;
        }
        if (value instanceof KdlValue.Bool b) {
            return b.value();
        }
        problems.add(where(value.position()), what + " expects true or false, found " + value.kindName());
        return null;
    }

    protected Integer positiveInt(KdlValue value, String what) {
        if (value == null) {
            return null;
        }
        if (value instanceof KdlValue.Num n && n.isInteger()) {
            java.math.BigInteger i = (java.math.BigInteger) n.value();
            if (i.signum() > 0 && i.bitLength() < 32) {
                return i.intValue();
            }
        }
        problems.add(where(value.position()), what + " expects a positive integer, found "
                + (value instanceof KdlValue.Num n ? n.value() : value.kindName()));
        return null;
    }

    /** The node's one argument, recording an error if it has none or several. */
    protected KdlValue singleArgument(KdlNode node, String... allowedProperties) {
        allowedProperties(node, node.name(), allowedProperties);
        noChildren(node);
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), node.name() + " expects exactly one value, found " + node.arguments().size());
            return null;
        }
        return node.arguments().get(0);
    }

    protected void noEntries(KdlNode node) {
        noArguments(node);
        allowedProperties(node, node.name());
    }

    protected void noArguments(KdlNode node) {
        if (!node.arguments().isEmpty()) {
            problems.add(where(node.arguments().get(0).position()), node.name() + " takes no arguments");
        }
    }

    protected void noChildren(KdlNode node) {
        if (!node.children().isEmpty()) {
            problems.add(where(node.children().get(0).position()), node.name() + " takes no children");
        }
    }

    protected void allowedProperties(KdlNode node, String what, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (KdlProperty p : node.properties().values()) {
            if (!ok.contains(p.key())) {
                problems.add(where(p.position()), "unknown property \"" + p.key() + "\" on " + what
                        + (allowed.length == 0 ? "; it takes no properties" : "; expected one of " + String.join(", ", allowed)));
            }
        }
    }

    protected void unknownNode(KdlNode node, String where, String expected) {
        problems.add(where(node.position()), "unknown node \"" + node.name() + "\" " + where + "; expected one of " + expected);
    }

    protected void duplicate(KdlNode node) {
        problems.add(where(node.position()), "\"" + node.name() + "\" is given more than once");
    }

    protected static boolean isKnown(String name, String... known) {
        return List.of(known).contains(name);
    }

    protected static Problems.Where where(KdlPosition position) {
        return new Problems.Where(position.line(), position.column());
    }


    protected Integer nonNegativeInt(KdlValue value, String what) {
        if (value instanceof KdlValue.Num n && n.isInteger() && ((java.math.BigInteger) n.value()).signum() == 0) {
            return 0;
        }
        return positiveInt(value, what);
    }

    protected Path readable(KdlProperty property) {
        String s = stringOrNull(property);
        return s == null ? null : rules.readableFile(s, property.key(), where(property.value().position()));
    }

    /** A positive integer property, or 0 when absent (or invalid, after recording the error). */
    protected int optionalMs(KdlNode node, String key) {
        Integer v = node.property(key).map(p -> positiveInt(p.value(), key)).orElse(null);
        return v == null ? 0 : v;
    }

    protected Integer port(KdlValue value) {
        Integer p = positiveInt(value, "port");
        if (p != null && p > 65535) {
            problems.add(where(value.position()), "port must be 1 to 65535, found " + p);
            return null;
        }
        return p;
    }

    protected static String[] concat(String[] a, String[] b, String... more) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }
}
