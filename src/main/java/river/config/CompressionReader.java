package river.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import river.kdl.KdlNode;
import river.kdl.KdlValue;

/** Reads a service's {@code compression} node, with a located error for each wrong value. */
final class CompressionReader extends KdlSchemaReader {
    private static final String KEYS = "enabled, algorithms, min-size, types, level-gzip, level-br, level-zstd";

    CompressionReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    CompressionConfig compression(KdlNode node) {
        noEntries(node);
        CompressionConfig d = CompressionConfig.defaults();
        boolean enabled = d.enabled();
        List<String> algorithms = d.algorithms();
        int minSize = d.minSize();
        List<String> types = d.types();
        int gzip = d.gzipLevel();
        int br = d.brotliLevel();
        int zstd = d.zstdLevel();
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name())) {
                duplicate(child);
            }
            KdlValue value = child.name().equals("types") || child.name().equals("algorithms") ? null : singleArgument(child);
            switch (child.name()) {
                case "enabled" -> {
                    Boolean b = bool(value, "enabled");
                    enabled = b == null ? enabled : b;
                }
                case "algorithms" -> algorithms = list(child, true);
                case "types" -> types = list(child, false);
                case "min-size" -> {
                    Integer n = nonNegativeInt(value, "min-size");
                    minSize = n == null ? minSize : n;
                }
                case "level-gzip" -> gzip = level(value, child, 1, 9, gzip);
                case "level-br" -> br = level(value, child, 0, 11, br);
                case "level-zstd" -> zstd = level(value, child, 1, 22, zstd);
                default -> unknownNode(child, "in compression", KEYS);
            }
        }
        return new CompressionConfig(enabled, algorithms, minSize, types, gzip, br, zstd);
    }

    private int level(KdlValue value, KdlNode node, int min, int max, int fallback) {
        Integer n = nonNegativeInt(value, node.name());
        if (n == null) {
            return fallback;
        }
        if (n < min || n > max) {
            problems.add(where(node.position()), node.name() + " must be from " + min + " to " + max + ", found " + n);
            return fallback;
        }
        return n;
    }

    /** One string argument, comma-separated, or several string arguments. */
    private List<String> list(KdlNode node, boolean algorithms) {
        allowedProperties(node, node.name());
        noChildren(node);
        List<String> out = new ArrayList<>();
        if (node.arguments().isEmpty()) {
            problems.add(where(node.position()), node.name() + " expects at least one value");
        }
        for (KdlValue v : node.arguments()) {
            String s = string(v, node.name());
            if (s == null) {
                continue;
            }
            for (String part : s.split(",")) {
                String item = part.trim().toLowerCase(Locale.ROOT);
                if (item.isEmpty()) {
                    continue;
                }
                if (algorithms && !CompressionConfig.ALGORITHMS.contains(item)) {
                    problems.add(where(v.position()), "unknown compression algorithm \"" + item + "\"; expected br, zstd or gzip");
                } else if (!algorithms && !item.startsWith("+") && !item.matches("[a-z0-9.+-]+/([a-z0-9.+-]+|\\*)")) {
                    problems.add(where(v.position()), "\"" + item + "\" is not a media type (type/subtype, type/* or +suffix)");
                } else if (!out.contains(item)) {
                    out.add(item);
                }
            }
        }
        return out;
    }
}
