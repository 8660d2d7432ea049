package river.config;

import java.util.Set;
import river.kdl.KdlNode;

/** Reads {@code system { log { … } }}. */
final class LogReader extends KdlSchemaReader {
    private static final Set<String> LEVELS = Set.of("error", "warn", "info", "debug", "trace");

    LogReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    LogConfig log(KdlNode node) {
        noEntries(node);
        String level = LogConfig.DEFAULTS.level();
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "level" -> {
                    String text = string(singleArgument(child), "log level");
                    if (text != null && !LEVELS.contains(text)) {
                        problems.add(where(child.arguments().get(0).position()), "log level must be one of error, warn, info, debug, trace; found \"" + text + "\"");
                    } else if (text != null) {
                        level = text;
                    }
                }
                default -> unknownNode(child, "in log", "level");
            }
        }
        return new LogConfig(level);
    }
}
