package river.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.Set;
import river.kdl.KdlNode;
import river.kdl.KdlValue;

/** Reads {@code system { tracing { … } }}. */
final class TracingReader extends KdlSchemaReader {
    private static final String[] NAMES = {"enabled", "endpoint", "protocol", "sampling-ratio", "service-name"};

    TracingReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    TracingConfig tracing(KdlNode node) {
        noEntries(node);
        TracingConfig d = TracingConfig.DEFAULTS;
        boolean enabled = d.enabled();
        URI endpoint = d.endpoint();
        String protocol = d.protocol();
        double ratio = d.samplingRatio();
        String serviceName = d.serviceName();
        boolean endpointGiven = false;
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name()) && isKnown(child.name(), NAMES)) {
                duplicate(child);
            }
            switch (child.name()) {
                case "enabled" -> {
                    Boolean b = bool(singleArgument(child), "tracing enabled");
                    enabled = b == null ? enabled : b;
                }
                case "endpoint" -> {
                    KdlValue v = singleArgument(child);
                    URI uri = endpoint(string(v, "tracing endpoint"), v);
                    endpoint = uri == null ? endpoint : uri;
                    endpointGiven = true;
                }
                case "protocol" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "tracing protocol");
                    if (TracingConfig.HTTP_PROTOBUF.equals(text) || TracingConfig.GRPC.equals(text)) {
                        protocol = text;
                    } else if (text != null) {
                        problems.add(where(v.position()), "tracing protocol must be \"http/protobuf\" or \"grpc\"; found \"" + text + "\"");
                    }
                }
                case "sampling-ratio" -> {
                    Double r = ratio(singleArgument(child));
                    ratio = r == null ? ratio : r;
                }
                case "service-name" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "tracing service-name");
                    if (text != null && text.isBlank()) {
                        problems.add(where(v.position()), "tracing service-name must not be empty");
                    } else if (text != null) {
                        serviceName = text;
                    }
                }
                default -> unknownNode(child, "in tracing", String.join(", ", NAMES));
            }
        }
        if (!endpointGiven && protocol.equals(TracingConfig.GRPC)) {
            endpoint = TracingConfig.GRPC_DEFAULT_ENDPOINT;
        }
        return new TracingConfig(enabled, endpoint, protocol, ratio, serviceName);
    }

    /** An absolute http(s) URL with a host, or null (with the problem recorded). */
    private URI endpoint(String text, KdlValue value) {
        if (text == null) {
            return null;
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme();
            if (("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        problems.add(where(value.position()), "tracing endpoint must be an http:// or https:// URL with a host, such as"
                + " \"http://127.0.0.1:4318/v1/traces\"; found \"" + text + "\"");
        return null;
    }

    /** A number from 0 to 1, or null (with the problem recorded). */
    private Double ratio(KdlValue value) {
        if (value == null) {
            return null;
        }
        if (value instanceof KdlValue.Num n) {
            BigDecimal d = n.value() instanceof BigInteger i ? new BigDecimal(i) : n.value() instanceof BigDecimal b ? b : null; // null: #inf, #nan
            if (d != null && d.signum() >= 0 && d.compareTo(BigDecimal.ONE) <= 0) {
                return d.doubleValue();
            }
            problems.add(where(value.position()), "tracing sampling-ratio must be from 0 to 1, found " + n.text());
            return null;
        }
        problems.add(where(value.position()), "tracing sampling-ratio expects a number from 0 to 1, found " + value.kindName());
        return null;
    }
}
