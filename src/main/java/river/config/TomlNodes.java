package river.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import river.kdl.KdlNode;
import river.kdl.KdlPosition;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/**
 * River's TOML sections presented as the KDL nodes of River's KDL schema, every node and value carrying
 * its position in the TOML file. The section readers ({@link AdminReader}, {@link AcmeReader},
 * {@link PluginsReader}, …) then validate both formats: one set of defaults, one set of rules, and each
 * error located in the file it came from. The shapes are in {@code docs/configuration.md}: a table is a
 * block, a key with a scalar a node with one value, an array of scalars a node with several.
 */
final class TomlNodes {
    private static final String[] ROTATION = {"max-size", "max-history", "rotate", "total-size-cap", "compress"};
    private static final Set<String> ACCESS_LOG = Set.of("format", "queue", "max-size", "max-history", "rotate", "total-size-cap", "compress");

    private final Problems problems;
    private final TomlPositions positions;

    TomlNodes(Problems problems, TomlPositions positions) {
        this.problems = problems;
        this.positions = positions;
    }

    // ---- sections -----------------------------------------------------------------------------------

    /** {@code [system]}: scalars, {@code access-log}, and the {@code admin}, {@code log} and {@code tracing} tables. */
    KdlNode system(JsonNode table, List<Object> path) {
        return block("system", table, path, (key, value, at) -> switch (key) {
            case "access-log" -> value.isObject() ? single(withArgument("access-log", "output", value, at, ACCESS_LOG, List.of())) : null;
            case "log" -> value.isObject() ? List.of(log(value, at)) : null;
            default -> null;
        });
    }

    /**
     * {@code [system.log]}: {@code level}, {@code format}, {@code output} with the rotation keys of a log file
     * beside it, and {@code [system.log.loggers]} mapping a logger name to its level.
     */
    private KdlNode log(JsonNode table, List<Object> path) {
        List<KdlNode> children = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : table.properties()) {
            String key = e.getKey();
            List<Object> at = child(path, key);
            switch (key) {
                case "output" -> {
                    KdlValue output = value(e.getValue(), at, key);
                    Map<String, KdlProperty> rotation = new LinkedHashMap<>();
                    for (String r : ROTATION) {
                        if (table.has(r)) {
                            property(r, table.get(r), child(path, r), rotation);
                        }
                    }
                    if (output != null) {
                        children.add(new KdlNode("output", null, List.of(output), rotation, List.of(), false, position(positions.key(at))));
                    }
                }
                case "loggers" -> {
                    if (!isTable(e.getValue(), at)) {
                        continue;
                    }
                    for (Map.Entry<String, JsonNode> logger : e.getValue().properties()) {
                        List<Object> loggerAt = child(at, logger.getKey());
                        KdlValue level = value(logger.getValue(), loggerAt, logger.getKey());
                        Map<String, KdlProperty> properties = new LinkedHashMap<>();
                        if (level != null) {
                            properties.put("level", new KdlProperty("level", level, position(positions.key(loggerAt))));
                        }
                        children.add(new KdlNode("logger", null, List.of(new KdlValue.Str(logger.getKey(), null, position(positions.key(loggerAt)))),
                                properties, List.of(), false, position(positions.key(loggerAt))));
                    }
                }
                default -> {
                    if (List.of(ROTATION).contains(key)) {
                        if (!table.has("output")) {
                            problems.add(positions.key(at), key + " applies to a log file; set output = \"/absolute/path.log\" beside it");
                        }
                    } else {
                        children.add(node(key, e.getValue(), at));
                    }
                }
            }
        }
        return new KdlNode("log", null, List.of(), Map.of(), children, true, position(positions.key(path)));
    }

    /** The top-level {@code [acme]} table; {@code contact} may be an array and {@code [[acme.domain]]} repeats. */
    KdlNode acme(JsonNode table, List<Object> path) {
        return block("acme", table, path, (key, value, at) -> switch (key) {
            case "contact" -> repeated("contact", value, at);
            case "store-redis" -> value.isObject() ? single(withArgument("store-redis", "url", value, at, Set.of("key-prefix"), List.of())) : null;
            case "domain" -> {
                List<KdlNode> out = new ArrayList<>();
                for (JsonNode d : value.isArray() ? value : List.of(value)) {
                    List<Object> dAt = value.isArray() ? child(at, out.size()) : at;
                    KdlNode n = isTable(d, dAt) ? withArgument("domain", "name", d, dAt, Set.of("challenge", "hook"), List.of()) : null;
                    out.add(n);
                }
                out.removeIf(java.util.Objects::isNull);
                yield out;
            }
            default -> null;
        });
    }

    /** {@code [[basic-proxy.plugins]]}: each table one {@code wasm} plugin, its call-out targets in {@code upstreams}. */
    KdlNode plugins(JsonNode array, List<Object> path) {
        List<KdlNode> wasm = new ArrayList<>();
        if (!array.isArray()) {
            problems.add(positions.key(path), "plugins must be an array of tables ([[basic-proxy.plugins]])");
        } else {
            for (int i = 0; i < array.size(); i++) {
                List<Object> at = child(path, i);
                JsonNode table = array.get(i);
                if (!isTable(table, at)) {
                    continue;
                }
                List<KdlNode> upstreams = new ArrayList<>();
                JsonNode ups = table.path("upstreams");
                List<Object> upsAt = child(at, "upstreams");
                if (!ups.isMissingNode() && isTable(ups, upsAt)) {
                    for (Map.Entry<String, JsonNode> u : ups.properties()) {
                        List<Object> uAt = child(upsAt, u.getKey());
                        KdlValue address = value(u.getValue(), uAt, u.getKey());
                        if (address != null) {
                            upstreams.add(new KdlNode("upstream", null, List.of(new KdlValue.Str(u.getKey(), null, position(positions.key(uAt))), address),
                                    Map.of(), List.of(), false, position(positions.key(uAt))));
                        }
                    }
                }
                // Every other key is a wasm property: the plugins reader names the unknown ones.
                Set<String> properties = new java.util.HashSet<>();
                table.fieldNames().forEachRemaining(properties::add);
                properties.remove("name");
                properties.remove("upstreams");
                KdlNode n = withArgument("wasm", "name", without(table, "upstreams"), at, properties, upstreams);
                if (n != null) {
                    wasm.add(n);
                }
            }
        }
        return new KdlNode("plugins", null, List.of(), Map.of(), wasm, true, position(positions.key(path)));
    }

    /** A table whose keys are the properties of one node ({@code [basic-proxy.timeouts]} → {@code timeouts connect-ms=…}). */
    KdlNode properties(String name, JsonNode table, List<Object> path) {
        Map<String, KdlProperty> properties = new LinkedHashMap<>();
        if (isTable(table, path)) {
            for (Map.Entry<String, JsonNode> e : table.properties()) {
                property(e.getKey(), e.getValue(), child(path, e.getKey()), properties);
            }
        }
        return new KdlNode(name, null, List.of(), properties, List.of(), false, position(positions.key(path)));
    }

    /** A table whose keys are child nodes, nested tables nested blocks ({@code [system.admin]} → {@code admin { … }}). */
    KdlNode block(String name, JsonNode table, List<Object> path) {
        return block(name, table, path, (key, value, at) -> null);
    }

    // ---- shapes -------------------------------------------------------------------------------------

    /** Turns one key of a block into nodes, or answers null for the ordinary shape. */
    @FunctionalInterface
    interface Shape {
        List<KdlNode> nodes(String key, JsonNode value, List<Object> path);
    }

    private KdlNode block(String name, JsonNode table, List<Object> path, Shape shape) {
        List<KdlNode> children = new ArrayList<>();
        if (isTable(table, path)) {
            for (Map.Entry<String, JsonNode> e : table.properties()) {
                List<Object> at = child(path, e.getKey());
                List<KdlNode> special = shape.nodes(e.getKey(), e.getValue(), at);
                if (special != null) {
                    children.addAll(special);
                } else {
                    KdlNode n = node(e.getKey(), e.getValue(), at);
                    if (n != null) {
                        children.add(n);
                    }
                }
            }
        }
        return new KdlNode(name, null, List.of(), Map.of(), children, true, position(positions.key(path)));
    }

    /** A key as a node: a table is a block, an array of scalars several values, a scalar one value. */
    private KdlNode node(String name, JsonNode value, List<Object> path) {
        if (value.isObject()) {
            return block(name, value, path);
        }
        List<KdlValue> arguments = new ArrayList<>();
        if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                KdlValue v = value(value.get(i), child(path, i), name);
                if (v != null) {
                    arguments.add(v);
                }
            }
        } else {
            KdlValue v = value(value, path, name);
            if (v == null) {
                return null;
            }
            arguments.add(v);
        }
        return new KdlNode(name, null, arguments, Map.of(), List.of(), false, position(positions.key(path)));
    }

    /** One node per element of an array (or one for a scalar): {@code contact = ["a", "b"]} → {@code contact "a"; contact "b"}. */
    private List<KdlNode> repeated(String name, JsonNode value, List<Object> path) {
        if (!value.isArray()) {
            return single(node(name, value, path));
        }
        List<KdlNode> out = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            List<Object> at = child(path, i);
            KdlValue v = value(value.get(i), at, name);
            if (v != null) {
                out.add(new KdlNode(name, null, List.of(v), Map.of(), List.of(), false, position(positions.value(at))));
            }
        }
        return out;
    }

    /**
     * {@code name ARG key=value…} from a table: its {@code argumentKey} is the one value, the keys in
     * {@code allowed} are properties, any other key is an error; null when the argument is missing.
     */
    private KdlNode withArgument(String name, String argumentKey, JsonNode table, List<Object> path, Set<String> allowed, List<KdlNode> children) {
        if (!isTable(table, path)) {
            return null;
        }
        Map<String, KdlProperty> properties = new LinkedHashMap<>();
        KdlValue argument = null;
        boolean ok = true;
        for (Map.Entry<String, JsonNode> e : table.properties()) {
            List<Object> at = child(path, e.getKey());
            if (e.getKey().equals(argumentKey)) {
                argument = value(e.getValue(), at, argumentKey);
                ok &= argument != null;
            } else if (allowed.contains(e.getKey())) {
                property(e.getKey(), e.getValue(), at, properties);
            } else {
                problems.add(positions.key(at), "unknown key \"" + e.getKey() + "\" in " + name + "; expected one of "
                        + String.join(", ", concat(argumentKey, allowed)));
                ok = false;
            }
        }
        if (argument == null) {
            if (ok) {
                problems.add(positions.key(path), name + " needs the key " + argumentKey);
            }
            return null;
        }
        return new KdlNode(name, null, List.of(argument), properties, children, !children.isEmpty(), position(positions.key(path)));
    }

    private void property(String key, JsonNode value, List<Object> at, Map<String, KdlProperty> into) {
        KdlValue v = value(value, at, key);
        if (v != null) {
            into.put(key, new KdlProperty(key, v, position(positions.key(at))));
        }
    }

    /** A scalar as a KDL value at the TOML value's position; null (after an error) for a table or an array. */
    KdlValue value(JsonNode v, List<Object> path, String what) {
        KdlPosition at = position(positions.value(path));
        if (v.isTextual()) {
            return new KdlValue.Str(v.asText(), null, at);
        }
        if (v.isBoolean()) {
            return new KdlValue.Bool(v.asBoolean(), null, at);
        }
        if (v.isIntegralNumber()) {
            return new KdlValue.Num(v.bigIntegerValue(), 10, v.asText(), null, at);
        }
        if (v.isNumber()) {
            double d = v.doubleValue();
            // TOML's inf and nan: kept as doubles, as KDL 2's #inf and #nan are, so the readers reject them alike.
            Number n = Double.isFinite(d) ? (v.isBigDecimal() ? v.decimalValue() : BigDecimal.valueOf(d)) : Double.valueOf(d);
            return new KdlValue.Num(n, 10, v.asText(), null, at);
        }
        problems.add(positions.value(path), what + " expects a string, a number or a boolean, found " + (v.isArray() ? "an array" : "a table"));
        return null;
    }

    private boolean isTable(JsonNode node, List<Object> path) {
        if (!node.isObject()) {
            problems.add(positions.value(path), describe(path) + " must be a table");
            return false;
        }
        return true;
    }

    static String describe(List<Object> path) {
        StringBuilder sb = new StringBuilder();
        for (Object s : path) {
            if (s instanceof Integer i) {
                sb.append('[').append(i).append(']');
            } else {
                sb.append(sb.length() == 0 ? "" : ".").append(s);
            }
        }
        return sb.length() == 0 ? "the file" : sb.toString();
    }

    static List<Object> child(List<Object> at, Object segment) {
        List<Object> out = new ArrayList<>(at);
        out.add(segment);
        return out;
    }

    static KdlPosition position(Problems.Where where) {
        return new KdlPosition(where.line(), where.column());
    }

    private static JsonNode without(JsonNode table, String key) {
        if (!table.isObject() || !table.has(key)) {
            return table;
        }
        com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) table).deepCopy();
        copy.remove(key);
        return copy;
    }

    private static List<KdlNode> single(KdlNode node) {
        return node == null ? List.of() : List.of(node);
    }

    private static List<String> concat(String first, Set<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(new java.util.TreeSet<>(rest));
        return all;
    }
}
