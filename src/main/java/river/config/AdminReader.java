package river.config;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import river.kdl.KdlNode;

/** Reads {@code system { admin { … } }}. */
final class AdminReader extends KdlSchemaReader {
    private static final String KNOWN = "enabled, listen, token-file, metrics";

    AdminReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    AdminConfig admin(KdlNode node) {
        noEntries(node);
        boolean enabled = AdminConfig.DEFAULTS.enabled();
        ListenAddress listen = AdminConfig.DEFAULTS.listen();
        Optional<Path> tokenFile = Optional.empty();
        boolean metrics = AdminConfig.DEFAULTS.metrics();
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name()) && isKnown(child.name(), "enabled", "listen", "token-file", "metrics")) {
                duplicate(child);
            }
            switch (child.name()) {
                case "enabled" -> {
                    Boolean b = bool(singleArgument(child), "admin enabled");
                    enabled = b == null ? enabled : b;
                }
                case "metrics" -> {
                    Boolean b = bool(singleArgument(child), "admin metrics");
                    metrics = b == null ? metrics : b;
                }
                case "listen" -> {
                    String text = string(singleArgument(child), "admin listen");
                    ListenAddress address = text == null ? null : rules.listenAddress(text, where(child.arguments().get(0).position()));
                    listen = address == null ? listen : address;
                }
                case "token-file" -> {
                    String text = string(singleArgument(child), "admin token-file");
                    Path file = text == null ? null : rules.readableFile(text, "admin token-file", where(child.arguments().get(0).position()));
                    tokenFile = Optional.ofNullable(file);
                }
                default -> unknownNode(child, "in admin", KNOWN);
            }
        }
        return new AdminConfig(enabled, listen, tokenFile, metrics);
    }
}
