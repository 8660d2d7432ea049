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
import java.util.regex.Pattern;
import river.kdl.KdlDocument;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;
import river.kdl.KdlVersion;

/**
 * Reads River's TOML format ({@code [system]}, {@code [acme]} and {@code [[basic-proxy]]} tables) into the
 * same model as KDL. River 0.5's tables (listeners, connector, path-control) are read here; the sections
 * River's TOML never had are presented as KDL nodes ({@link TomlNodes}) to the readers KDL uses, so both
 * formats share defaults and validation. Jackson's TOML tree has no positions, so {@link TomlPositions}
 * locates each key and value.
 */
final class TomlConfigReader {
    private static final TomlMapper MAPPER = new TomlMapper();

    private final Problems problems;
    private final ValueRules rules;
    private final String text;
    private final KdlConfigReader kdl;
    private final List<KdlNode> servicesForAcme = new ArrayList<>();
    private TomlPositions positions;
    private TomlNodes nodes;

    TomlConfigReader(Problems problems, Path workingDirectory, String text) {
        this.problems = problems;
        this.rules = new ValueRules(problems, workingDirectory);
        this.text = text;
        this.kdl = new KdlConfigReader(problems, workingDirectory);
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
        positions = TomlPositions.of(text);
        nodes = new TomlNodes(problems, positions);
        allowedKeys(root, List.of(), "at the top level", "system", "acme", "basic-proxy");
        JsonNode systemTable = root.path("system");
        SystemConfig system = systemTable.isMissingNode() ? SystemConfig.defaults() : kdl.system(nodes.system(systemTable, List.of("system")));
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
        JsonNode acmeTable = root.path("acme");
        KdlNode acmeNode = acmeTable.isMissingNode() ? null : nodes.acme(acmeTable, List.of("acme"));
        AcmeReader acmeReader = new AcmeReader(problems, rules);
        AcmeConfig acme = acmeNode == null ? null : acmeReader.acme(acmeNode);
        // The same cross-check as KDL's, over the TOML listeners as KDL listener nodes.
        List<KdlNode> document = new ArrayList<>();
        if (acmeNode != null) {
            document.add(acmeNode);
        }
        document.add(new KdlNode("services", null, List.of(), Map.of(), servicesForAcme, true, TomlNodes.position(Problems.Where.TOP)));
        acmeReader.crossCheck(new KdlDocument(document, KdlVersion.V1), acme, acmeNode != null);
        return new RawConfig(system, services, locate(List.of("system")), Optional.ofNullable(acme));
    }

    private ServiceConfig proxy(JsonNode node, List<Object> at) {
        if (!table(node, at)) {
            return null;
        }
        allowedKeys(node, at, "in [[basic-proxy]]", "name", "listeners", "connector", "path-control", "timeouts", "limits", "upstream-pool",
                "compression", "plugins");
        String name = requiredString(node, at, "name");
        List<ListenerConfig> listeners = new ArrayList<>();
        List<KdlNode> listenerNodes = new ArrayList<>();
        JsonNode ls = node.path("listeners");
        if (ls.isMissingNode() || !ls.isArray() || ls.isEmpty()) {
            problems.add(locate(ls.isMissingNode() ? at : child(at, "listeners")),
                    "basic-proxy" + (name == null ? "" : " \"" + name + "\"") + " needs at least one [[basic-proxy.listeners]]");
        } else {
            for (int i = 0; i < ls.size(); i++) {
                ListenerConfig l = listener(ls.get(i), child(child(at, "listeners"), i), listenerNodes);
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
        servicesForAcme.add(new KdlNode(name == null ? "" : name, null, List.of(), Map.of(),
                List.of(new KdlNode("listeners", null, List.of(), Map.of(), listenerNodes, true, TomlNodes.position(locate(at)))),
                true, TomlNodes.position(locate(at))));
        KdlNode timeouts = section(node, at, "timeouts");
        KdlNode limits = section(node, at, "limits");
        HttpSettings http = kdl.httpSettings(timeouts, limits, section(node, at, "upstream-pool"));
        RequestGuards guards = new RequestGuards(RequestGuards.Normalization.DEFAULT, Optional.empty(), Optional.empty(), List.of(), Optional.empty(),
                new GuardsReader(problems, rules).clientLimits(limits));
        JsonNode compressionTable = node.path("compression");
        CompressionConfig compression = compressionTable.isMissingNode() ? CompressionConfig.defaults()
                : new CompressionReader(problems, rules).compression(nodes.block("compression", compressionTable, child(at, "compression")));
        JsonNode pluginsArray = node.path("plugins");
        List<PluginConfig> plugins = pluginsArray.isMissingNode() ? List.of()
                : new PluginsReader(problems, rules).plugins(nodes.plugins(pluginsArray, child(at, "plugins")));
        if (name == null || connector == null) {
            return null;
        }
        return new ServiceConfig(name, listeners, new ServiceHandler.Proxy(List.of(connector), LoadBalanceConfig.defaults()), pathControl, List.of(),
                http, guards, compression, plugins);
    }

    /** A table of a service whose keys are one KDL node's properties ({@code [basic-proxy.timeouts]}), or null when absent. */
    private KdlNode section(JsonNode service, List<Object> at, String key) {
        JsonNode table = service.path(key);
        return table.isMissingNode() ? null : nodes.properties(key, table, child(at, key));
    }

    private ListenerConfig listener(JsonNode node, List<Object> at, List<KdlNode> listenerNodes) {
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
                allowedKeys(value, valueAt, "in a Tcp listener", "addr", "tls", "offer_h2", "proxy_protocol", "h2c", "acme_domains");
                String addr = requiredString(value, valueAt, "addr");
                if (addr == null) {
                    return null;
                }
                if (addr.startsWith("unix:")) {
                    problems.add(locate(child(valueAt, "addr")), "a Tcp listener needs an IP address and port; use kind = \"Uds\" for unix sockets");
                    return null;
                }
                KdlNode listener = tcpListener(addr, value, valueAt);
                listenerNodes.add(listener);
                return kdl.listener(listener);
            }
            default -> {
                problems.add(locate(child(sourceAt, "kind")), "listener kind must be \"Tcp\" or \"Uds\", found \"" + kind + "\"");
                return null;
            }
        }
    }

    /**
     * A Tcp listener's {@code value} table as the KDL listener node it stands for: River 0.5's snake_case keys
     * ({@code tls.cert_path}, {@code offer_h2}) and this reader's additions beside them become the KDL properties
     * of the same meaning, {@code tls.sni} tables its {@code sni} children.
     */
    private KdlNode tcpListener(String addr, JsonNode value, List<Object> valueAt) {
        Map<String, KdlProperty> properties = new java.util.LinkedHashMap<>();
        List<KdlNode> sni = new ArrayList<>();
        JsonNode tls = value.path("tls");
        List<Object> tlsAt = child(valueAt, "tls");
        boolean hasTls = !tls.isMissingNode() && table(tls, tlsAt);
        if (hasTls) {
            allowedKeys(tls, tlsAt, "in tls", "cert_path", "key_path", "min_version", "ciphers", "ocsp_response_path", "sni");
            put(properties, "cert-path", tls, tlsAt, "cert_path");
            put(properties, "key-path", tls, tlsAt, "key_path");
            put(properties, "tls-min-version", tls, tlsAt, "min_version");
            put(properties, "tls-ciphers", tls, tlsAt, "ciphers");
            put(properties, "ocsp-response-path", tls, tlsAt, "ocsp_response_path");
            JsonNode names = tls.path("sni");
            List<Object> sniAt = child(tlsAt, "sni");
            if (!names.isMissingNode() && !names.isArray()) {
                problems.add(locate(sniAt), "tls.sni must be an array of tables: sni = [{ name = \"…\", cert_path = \"…\", key_path = \"…\" }]");
            }
            for (int i = 0; names.isArray() && i < names.size(); i++) {
                List<Object> at = child(sniAt, i);
                JsonNode entry = names.get(i);
                if (!table(entry, at)) {
                    continue;
                }
                allowedKeys(entry, at, "in a tls.sni entry", "name", "cert_path", "key_path", "ocsp_response_path");
                Map<String, KdlProperty> sniProperties = new java.util.LinkedHashMap<>();
                put(sniProperties, "cert-path", entry, at, "cert_path");
                put(sniProperties, "key-path", entry, at, "key_path");
                put(sniProperties, "ocsp-response-path", entry, at, "ocsp_response_path");
                KdlValue name = entry.has("name") ? nodes.value(entry.get("name"), child(at, "name"), "name") : null;
                if (!entry.has("name")) {
                    problems.add(locate(at), "a tls.sni entry needs the key name");
                } else if (name != null) {
                    sni.add(new KdlNode("sni", null, List.of(name), sniProperties, List.of(), false, TomlNodes.position(locate(at))));
                }
            }
        }
        JsonNode acme = value.path("acme_domains");
        List<Object> acmeAt = child(valueAt, "acme_domains");
        if (acme.isArray()) {
            // An array is the TOML spelling of KDL's comma-separated list; both reach the same validation.
            List<String> names = new ArrayList<>();
            for (int i = 0; i < acme.size(); i++) {
                if (acme.get(i).isTextual()) {
                    names.add(acme.get(i).asText());
                } else {
                    problems.add(positions.value(child(acmeAt, i)), "acme_domains expects strings, found " + acme.get(i).getNodeType().name().toLowerCase());
                }
            }
            properties.put("acme-domains", new KdlProperty("acme-domains", new KdlValue.Str(String.join(", ", names), null,
                    TomlNodes.position(positions.value(acmeAt))), TomlNodes.position(locate(acmeAt))));
        } else {
            put(properties, "acme-domains", value, valueAt, "acme_domains");
        }
        if (value.has("offer_h2") && !hasTls && acme.isMissingNode()) {
            problems.add(locate(child(valueAt, "offer_h2")), "offer_h2 needs TLS; set tls.cert_path and tls.key_path, or acme_domains");
        } else {
            put(properties, "offer-h2", value, valueAt, "offer_h2");
        }
        put(properties, "proxy-protocol", value, valueAt, "proxy_protocol");
        put(properties, "h2c", value, valueAt, "h2c");
        return new KdlNode(addr, null, List.of(), properties, sni, !sni.isEmpty(), TomlNodes.position(positions.value(child(valueAt, "addr"))));
    }

    /** The TOML key {@code key} of {@code table}, if there, as the KDL property {@code kdlKey}. */
    private void put(Map<String, KdlProperty> into, String kdlKey, JsonNode table, List<Object> at, String key) {
        if (table.has(key)) {
            KdlValue v = nodes.value(table.get(key), child(at, key), key);
            if (v != null) {
                into.put(kdlKey, new KdlProperty(kdlKey, v, TomlNodes.position(locate(child(at, key)))));
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
        return TomlNodes.child(at, segment);
    }

    private static String describe(List<Object> at) {
        return TomlNodes.describe(at);
    }

    /** Where the key at {@code path} is written (or its nearest ancestor that is). */
    private Problems.Where locate(List<Object> path) {
        return positions.key(path);
    }
}
