package river.config;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/** Reads {@code system { log { … } }} and {@code system { access-log … }}. */
final class LogReader extends KdlSchemaReader {
    private static final Set<String> LEVELS = Set.of("error", "warn", "info", "debug", "trace", "off");
    private static final String LEVEL_LIST = "error, warn, info, debug, trace, off";
    private static final String[] ROTATION = {"max-size", "max-history", "rotate", "total-size-cap", "compress"};
    private static final Pattern SIZE = Pattern.compile("(\\d{1,9})\\s*(KB|MB|GB)", Pattern.CASE_INSENSITIVE);
    private static final Pattern LOGGER_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    LogReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    LogConfig log(KdlNode node) {
        noEntries(node);
        LogConfig d = LogConfig.DEFAULTS;
        String level = d.level();
        LogConfig.Output output = d.output();
        LogConfig.Format format = d.format();
        Map<String, String> loggers = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!child.name().equals("logger") && !seen.add(child.name()) && isKnown(child.name(), "level", "output", "format")) {
                duplicate(child);
            }
            switch (child.name()) {
                case "level" -> level = level(singleArgument(child), level);
                case "output" -> {
                    noChildren(child);
                    output = output(child, "log output");
                }
                case "format" -> format = format(singleArgument(child), format);
                case "logger" -> {
                    String name = string(singleArgument(child, "level"), "logger");
                    Optional<KdlProperty> lv = child.property("level");
                    if (lv.isEmpty()) {
                        problems.add(where(child.position()), "logger needs the property level= (one of " + LEVEL_LIST + ")");
                    } else if (name != null && !LOGGER_NAME.matcher(name).matches()) {
                        problems.add(where(child.arguments().get(0).position()), "logger expects a logger name such as \"river.upstream\", found \"" + name + "\"");
                    } else if (name != null) {
                        if (loggers.containsKey(name)) {
                            problems.add(where(child.position()), "logger \"" + name + "\" is given more than once");
                        }
                        String l = level(lv.get().value(), null);
                        if (l != null) {
                            loggers.put(name, l);
                        }
                    }
                }
                default -> unknownNode(child, "in log", "level, output, format, logger");
            }
        }
        return new LogConfig(level, output, format, loggers, d.access());
    }

    /** {@code access-log "stdout"|"stderr"|"off"|"/path" [format="text"|"json"] [queue=N] [rotation properties]}. */
    LogConfig.Access accessLog(KdlNode node) {
        noChildren(node);
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), "access-log expects exactly one value, found " + node.arguments().size());
            return LogConfig.Access.DEFAULTS;
        }
        KdlValue first = node.arguments().get(0);
        if (first instanceof KdlValue.Str s && s.value().equals("off")) {
            allowedProperties(node, "access-log \"off\"");
            return LogConfig.Access.OFF;
        }
        LogConfig.Output output = output(node, "access-log", "format", "queue");
        LogConfig.Format format = node.property("format").map(p -> format(p.value(), LogConfig.Format.TEXT)).orElse(LogConfig.Format.TEXT);
        Integer queue = node.property("queue").map(p -> positiveInt(p.value(), "queue")).orElse(LogConfig.Access.DEFAULT_QUEUE_LINES);
        return new LogConfig.Access(true, output, format, queue == null ? LogConfig.Access.DEFAULT_QUEUE_LINES : queue);
    }

    /** The node's one argument as a destination, with the rotation properties a file may have. */
    private LogConfig.Output output(KdlNode node, String what, String... otherProperties) {
        String[] allowed = concat(ROTATION, otherProperties);
        allowedProperties(node, what, allowed);
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), what + " expects exactly one value, found " + node.arguments().size());
            return LogConfig.Output.STDERR;
        }
        KdlValue arg = node.arguments().get(0);
        String target = string(arg, what);
        if (target == null) {
            return LogConfig.Output.STDERR;
        }
        if (target.equals("stdout") || target.equals("stderr")) {
            for (String r : ROTATION) {
                node.property(r).ifPresent(p -> problems.add(where(p.position()),
                        r + " applies to a log file; " + what + " \"" + target + "\" is a stream"));
            }
            return target.equals("stdout") ? LogConfig.Output.STDOUT : LogConfig.Output.STDERR;
        }
        if (!target.startsWith("/")) {
            problems.add(where(arg.position()), what + " must be \"stdout\", \"stderr\""
                    + (what.equals("access-log") ? ", \"off\"" : "") + " or an absolute file path, found \"" + target + "\"");
            return LogConfig.Output.STDERR;
        }
        Path file = Path.of(target).normalize();
        if (file.getFileName() == null) {
            problems.add(where(arg.position()), what + " must name a file, found \"" + target + "\"");
            return LogConfig.Output.STDERR;
        }
        LogConfig.Rotation d = LogConfig.Rotation.DEFAULTS;
        long maxSize = node.property("max-size").map(p -> size(p, d.maxSizeBytes())).orElse(d.maxSizeBytes());
        Integer history = node.property("max-history").map(p -> positiveInt(p.value(), "max-history")).orElse(d.maxHistory());
        boolean hourly = false;
        Optional<KdlProperty> rotate = node.property("rotate");
        if (rotate.isPresent()) {
            String r = stringOrNull(rotate.get());
            if (r != null && !r.equals("daily") && !r.equals("hourly")) {
                problems.add(where(rotate.get().value().position()), "rotate must be \"daily\" or \"hourly\", found \"" + r + "\"");
            }
            hourly = "hourly".equals(r);
        }
        long cap = node.property("total-size-cap").map(p -> size(p, 0)).orElse(0L);
        Boolean compress = node.property("compress").map(p -> bool(p.value(), "compress")).orElse(false);
        return LogConfig.Output.file(file, new LogConfig.Rotation(maxSize, history == null ? d.maxHistory() : history, hourly, cap,
                compress != null && compress));
    }

    private long size(KdlProperty p, long fallback) {
        String s = stringOrNull(p);
        if (s == null) {
            return fallback;
        }
        Matcher m = SIZE.matcher(s.trim());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            problems.add(where(p.value().position()), p.key() + " expects a size such as \"100MB\" (KB, MB or GB), found \"" + s + "\"");
            return fallback;
        }
        long unit = switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
            case "KB" -> 1024L;
            case "MB" -> 1024L * 1024;
            default -> 1024L * 1024 * 1024;
        };
        return Long.parseLong(m.group(1)) * unit;
    }

    private String level(KdlValue value, String fallback) {
        String text = string(value, "log level");
        if (text != null && !LEVELS.contains(text)) {
            problems.add(where(value.position()), "log level must be one of " + LEVEL_LIST + "; found \"" + text + "\"");
            return fallback;
        }
        return text == null ? fallback : text;
    }

    private LogConfig.Format format(KdlValue value, LogConfig.Format fallback) {
        String text = string(value, "format");
        if (text == null) {
            return fallback;
        }
        return switch (text) {
            case "text" -> LogConfig.Format.TEXT;
            case "json" -> LogConfig.Format.JSON;
            default -> {
                problems.add(where(value.position()), "format must be \"text\" or \"json\", found \"" + text + "\"");
                yield fallback;
            }
        };
    }
}
