package river.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads River's TOML format ({@code [system]} and {@code [[basic-proxy]]} tables) into the same model
 * as KDL. The TOML library yields a tree without positions, so errors are located by finding the
 * offending key in the text.
 */
final class TomlConfigReader {
    private static final TomlMapper MAPPER = new TomlMapper();

    private final Problems problems;
    private final ValueRules rules;
    private final String[] lines;
    private final String text;

    TomlConfigReader(Problems problems, Path workingDirectory, String text) {
        this.problems = problems;
        this.rules = new ValueRules(problems, workingDirectory);
        this.text = text;
        this.lines = text.split("\r?\n", -1);
    }

    RawConfig read() {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            int line = at == null || at.getLineNr() < 1 ? 1 : at.getLineNr();
            int column = at == null || at.getColumnNr() < 1 ? 1 : at.getColumnNr();
            problems.add(new Problems.Where(line, column), "TOML syntax error: " + e.getOriginalMessage());
            return null;
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = MAPPER.createObjectNode();
        }
        allowedKeys(root, List.of(), "at the top level", "system", "basic-proxy");
        SystemConfig system = system(root.path("system"));
        List<ServiceConfig> services = new ArrayList<>();
        JsonNode proxies = root.path("basic-proxy");
        if (!proxies.isMissingNode()) {
            if (!proxies.isArray()) {
                problems.add(locate(List.of("basic-proxy")), "basic-proxy must be an array of tables ([[basic-proxy]])");
            } else {
                Set<String> names = new java.util.HashSet<>();
                for (int i = 0; i < proxies.size(); i++) {
                    ServiceConfig service = proxy(proxies.get(i), List.of("basic-proxy", i));
                    if (service != null && !names.add(service.name())) {
                        problems.add(locate(List.of("basic-proxy", i, "name")), "service \"" + service.name() + "\" is defined twice; service names must be unique");
                    }
                    if (service != null) {
                        services.add(service);
                    }
                }
            }
        }
        return new RawConfig(system, services, locate(List.of("system")));
    }

    private SystemConfig system(JsonNode node) {
        SystemConfig defaults = SystemConfig.defaults();
        if (node.isMissingNode()) {
            return defaults;
        }
        List<Object> at = List.of("system");
        if (!table(node, at)) {
            return defaults;
        }
        allowedKeys(node, at, "in [system]", "threads-per-service", "daemonize", "pid-file", "upgrade-socket");
        Integer threads = optionalPositiveInt(node, at, "threads-per-service");
        Boolean daemonize = optionalBool(node, at, "daemonize");
        String pid = optionalString(node, at, "pid-file");
        String upgrade = optionalString(node, at, "upgrade-socket");
        return new SystemConfig(
                threads == null ? defaults.threadsPerService() : threads,
                daemonize != null && daemonize,
                Optional.ofNullable(pid == null ? null : rules.absolutePath(pid, "pid-file", locate(child(at, "pid-file")))),
                Optional.ofNullable(upgrade == null ? null : rules.absolutePath(upgrade, "upgrade-socket", locate(child(at, "upgrade-socket")))),
                defaults.gracePeriodSeconds(),
                defaults.accessLog());
    }

    private ServiceConfig proxy(JsonNode node, List<Object> at) {
        if (!table(node, at)) {
            return null;
        }
        allowedKeys(node, at, "in [[basic-proxy]]", "name", "listeners", "connector", "path-control");
        String name = requiredString(node, at, "name");
        List<ListenerConfig> listeners = new ArrayList<>();
        JsonNode ls = node.path("listeners");
        if (ls.isMissingNode() || !ls.isArray() || ls.isEmpty()) {
            problems.add(locate(ls.isMissingNode() ? at : child(at, "listeners")),
                    "basic-proxy" + (name == null ? "" : " \"" + name + "\"") + " needs at least one [[basic-proxy.listeners]]");
        } else {
            for (int i = 0; i < ls.size(); i++) {
                ListenerConfig l = listener(ls.get(i), child(child(at, "listeners"), i));
                if (l != null) {
                    listeners.add(l);
                }
            }
        }
        ConnectorConfig connector = null;
        JsonNode c = node.path("connector");
        if (c.isMissingNode()) {
            problems.add(locate(at), "basic-proxy" + (name == null ? "" : " \"" + name + "\"") + " needs a [basic-proxy.connector] with proxy_addr");
        } else {
            connector = connector(c, child(at, "connector"));
        }
        PathControlConfig pathControl = pathControl(node.path("path-control"), child(at, "path-control"));
        if (name == null || connector == null) {
            return null;
        }
        return new ServiceConfig(name, listeners, new ServiceHandler.Proxy(List.of(connector), LoadBalanceConfig.defaults()), pathControl, List.of(),
                HttpSettings.defaults());
    }

    private ListenerConfig listener(JsonNode node, List<Object> at) {
        if (!table(node, at)) {
            return null;
        }
        allowedKeys(node, at, "in a listener", "source");
        JsonNode source = node.path("source");
        List<Object> sourceAt = child(at, "source");
        if (source.isMissingNode() || !table(source, sourceAt)) {
            problems.add(locate(at), "listener needs source = { kind = \"Tcp\" | \"Uds\", value = ... }");
            return null;
        }
        allowedKeys(source, sourceAt, "in a listener source", "kind", "value");
        String kind = requiredString(source, sourceAt, "kind");
        JsonNode value = source.path("value");
        List<Object> valueAt = child(sourceAt, "value");
        if (kind == null) {
            return null;
        }
        switch (kind) {
            case "Uds" -> {
                if (!value.isTextual()) {
                    problems.add(locate(valueAt), "a Uds listener's value must be the socket path as a string");
                    return null;
                }
                return new ListenerConfig(new ListenAddress.Unix(rules.resolve(value.asText())), Optional.empty(), false, false);
            }
            case "Tcp" -> {
                if (!table(value, valueAt)) {
                    return null;
                }
                allowedKeys(value, valueAt, "in a Tcp listener", "addr", "tls", "offer_h2");
                String addr = requiredString(value, valueAt, "addr");
                ListenAddress address = addr == null ? null : rules.listenAddress(addr, locate(child(valueAt, "addr")));
                if (address instanceof ListenAddress.Unix) {
                    problems.add(locate(child(valueAt, "addr")), "a Tcp listener needs an IP address and port; use kind = \"Uds\" for unix sockets");
                    return null;
                }
                Optional<TlsSettings> tls = Optional.empty();
                JsonNode t = value.path("tls");
                List<Object> tlsAt = child(valueAt, "tls");
                if (!t.isMissingNode() && table(t, tlsAt)) {
                    allowedKeys(t, tlsAt, "in tls", "cert_path", "key_path");
                    String cert = requiredString(t, tlsAt, "cert_path");
                    String key = requiredString(t, tlsAt, "key_path");
                    Path certPath = cert == null ? null : rules.readableFile(cert, "cert_path", locate(child(tlsAt, "cert_path")));
                    Path keyPath = key == null ? null : rules.readableFile(key, "key_path", locate(child(tlsAt, "key_path")));
                    if (certPath != null && keyPath != null) {
                        tls = Optional.of(new TlsSettings(certPath, keyPath, TlsSettings.DEFAULT_MIN_VERSION, List.of(), List.of(), Optional.empty()));
                    }
                }
                Boolean offerH2 = optionalBool(value, valueAt, "offer_h2");
                if (offerH2 != null && t.isMissingNode()) {
                    problems.add(locate(child(valueAt, "offer_h2")), "offer_h2 needs TLS; set tls.cert_path and tls.key_path");
                }
                boolean h2 = offerH2 == null ? !t.isMissingNode() : offerH2;
                return address == null ? null : new ListenerConfig(address, tls, h2, false);
            }
            default -> {
                problems.add(locate(child(sourceAt, "kind")), "listener kind must be \"Tcp\" or \"Uds\", found \"" + kind + "\"");
                return null;
            }
        }
    }

    private ConnectorConfig connector(JsonNode node, List<Object> at) {
        if (!table(node, at)) {
            return null;
        }
        allowedKeys(node, at, "in connector", "proxy_addr", "tls_sni");
        String addr = requiredString(node, at, "proxy_addr");
        String[] hostPort = addr == null ? null : rules.hostAndPort(addr, locate(child(at, "proxy_addr")), "connector");
        String sni = optionalString(node, at, "tls_sni");
        if (sni != null) {
            sni = rules.serverName(sni, locate(child(at, "tls_sni")));
            if (sni == null) {
                return null;
            }
        }
        if (hostPort == null) {
            return null;
        }
        return new ConnectorConfig(hostPort[0], Integer.parseInt(hostPort[1]), Optional.ofNullable(sni),
                sni == null ? UpstreamProto.H1_ONLY : UpstreamProto.H2_OR_H1, ConnectorConfig.DEFAULT_WEIGHT, Optional.empty(), true);
    }

    private PathControlConfig pathControl(JsonNode node, List<Object> at) {
        if (node.isMissingNode() || !table(node, at)) {
            return PathControlConfig.empty();
        }
        allowedKeys(node, at, "in path-control", "upstream-request-filters", "upstream-response-filters");
        return new PathControlConfig(List.of(),
                headerFilters(node.path("upstream-request-filters"), child(at, "upstream-request-filters")),
                headerFilters(node.path("upstream-response-filters"), child(at, "upstream-response-filters")));
    }

    private List<FilterConfig> headerFilters(JsonNode node, List<Object> at) {
        List<FilterConfig> filters = new ArrayList<>();
        if (node.isMissingNode()) {
            return filters;
        }
        if (!node.isArray()) {
            problems.add(locate(at), at.get(at.size() - 1) + " must be an array of filter tables");
            return filters;
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode f = node.get(i);
            List<Object> fAt = child(at, i);
            if (!table(f, fAt)) {
                continue;
            }
            String kind = requiredString(f, fAt, "kind");
            if (kind == null) {
                continue;
            }
            switch (kind) {
                case "remove-header-key-regex" -> {
                    allowedKeys(f, fAt, "on filter kind=\"remove-header-key-regex\"", "kind", "pattern");
                    String p = requiredString(f, fAt, "pattern");
                    Pattern pattern = p == null ? null : rules.regex(p, "pattern", locate(child(fAt, "pattern")), Pattern.CASE_INSENSITIVE);
                    if (pattern != null) {
                        filters.add(new FilterConfig.RemoveHeaderKeyRegex(pattern));
                    }
                }
                case "upsert-header" -> {
                    allowedKeys(f, fAt, "on filter kind=\"upsert-header\"", "kind", "key", "value");
                    String key = requiredString(f, fAt, "key");
                    String value = requiredString(f, fAt, "value");
                    key = key == null ? null : rules.headerName(key, "key", locate(child(fAt, "key")));
                    value = value == null ? null : rules.headerValue(value, "value", locate(child(fAt, "value")));
                    if (key != null && value != null) {
                        filters.add(new FilterConfig.UpsertHeader(key, value));
                    }
                }
                default -> problems.add(locate(child(fAt, "kind")),
                        "unknown filter kind \"" + kind + "\"; expected remove-header-key-regex or upsert-header");
            }
        }
        return filters;
    }

    // ---- typed access ------------------------------------------------------------------------------

    private boolean table(JsonNode node, List<Object> at) {
        if (!node.isObject()) {
            problems.add(locate(at), describe(at) + " must be a table");
            return false;
        }
        return true;
    }

    private void allowedKeys(JsonNode node, List<Object> at, String where, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String key = field.getKey();
            if (!ok.contains(key)) {
                problems.add(locate(child(at, key)), "unknown key \"" + key + "\" " + where + "; expected one of " + String.join(", ", allowed));
            }
        }
    }

    private String requiredString(JsonNode node, List<Object> at, String key) {
        if (node.path(key).isMissingNode()) {
            problems.add(locate(at), describe(at) + " needs the key " + key);
            return null;
        }
        return optionalString(node, at, key);
    }

    private String optionalString(JsonNode node, List<Object> at, String key) {
        JsonNode v = node.path(key);
        if (v.isMissingNode()) {
            return null;
        }
        if (!v.isTextual()) {
            problems.add(locate(child(at, key)), key + " expects a string, found " + v.getNodeType().name().toLowerCase());
            return null;
        }
        return v.asText();
    }

    private Boolean optionalBool(JsonNode node, List<Object> at, String key) {
        JsonNode v = node.path(key);
        if (v.isMissingNode()) {
            return null;
        }
        if (!v.isBoolean()) {
            problems.add(locate(child(at, key)), key + " expects true or false, found " + v.getNodeType().name().toLowerCase());
            return null;
        }
        return v.asBoolean();
    }

    private Integer optionalPositiveInt(JsonNode node, List<Object> at, String key) {
        JsonNode v = node.path(key);
        if (v.isMissingNode()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            problems.add(locate(child(at, key)), key + " expects a positive integer, found " + v.asText());
            return null;
        }
        return v.asInt();
    }

    private static List<Object> child(List<Object> at, Object segment) {
        List<Object> out = new ArrayList<>(at);
        out.add(segment);
        return out;
    }

    private static String describe(List<Object> at) {
        StringBuilder sb = new StringBuilder();
        for (Object s : at) {
            if (s instanceof Integer i) {
                sb.append('[').append(i).append(']');
            } else {
                sb.append(sb.length() == 0 ? "" : ".").append(s);
            }
        }
        return sb.length() == 0 ? "the file" : sb.toString();
    }

    /**
     * Finds the line of a key path: array-of-table indices by counting {@code [[header]]} lines, keys
     * by their first appearance after the previous segment's line.
     */
    private Problems.Where locate(List<Object> path) {
        int line = 0;
        int column = 0;
        String dotted = "";
        for (int i = 0; i < path.size(); i++) {
            if (!(path.get(i) instanceof String key)) {
                continue;
            }
            dotted = dotted.isEmpty() ? key : dotted + "." + key;
            if (i + 1 < path.size() && path.get(i + 1) instanceof Integer index) {
                Pattern header = Pattern.compile("^\\s*\\[\\[\\s*" + Pattern.quote(dotted) + "\\s*]]");
                int seen = 0;
                int found = -1;
                for (int l = 0; l < lines.length && found < 0; l++) {
                    if (header.matcher(lines[l]).find() && seen++ == index) {
                        found = l;
                    }
                }
                if (found >= 0) {
                    line = found;
                    column = lines[found].indexOf('[');
                    i++;
                    continue;
                }
            }
            Pattern keyPattern = Pattern.compile("(^|[\\s.\\[{,\"])(" + Pattern.quote(key) + ")\"?\\s*([=.\\]])");
            for (int l = line; l < lines.length; l++) {
                String content = lines[l].replaceFirst("#.*$", "");
                Matcher m = keyPattern.matcher(content);
                if (m.find()) {
                    line = l;
                    column = m.start(2);
                    break;
                }
            }
        }
        return new Problems.Where(line + 1, column + 1);
    }
}
