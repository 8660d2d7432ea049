package river.config;

import river.kdl.KdlNode;

/** Reads {@code system { tracing { … } }}. */
final class TracingReader extends KdlSchemaReader {
    TracingReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    TracingConfig tracing(KdlNode node) {
        noEntries(node);
        boolean enabled = TracingConfig.DEFAULTS.enabled();
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "enabled" -> {
                    Boolean b = bool(singleArgument(child), "tracing enabled");
                    enabled = b == null ? enabled : b;
                }
                default -> unknownNode(child, "in tracing", "enabled");
            }
        }
        return new TracingConfig(enabled);
    }
}
