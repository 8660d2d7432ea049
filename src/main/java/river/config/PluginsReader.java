package river.config;

import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;

/**
 * Reads a service's {@code plugins} block: {@code wasm "name" path="/abs/plugin.wasm" …} entries, in
 * the order they run, each file checked to be a proxy-wasm module (docs/wasm.md).
 */
final class PluginsReader extends KdlSchemaReader {
    private static final String[] PROPERTIES = {"path", "config", "vm-config", "fail-open", "max-memory-pages", "call-timeout-ms", "max-body-bytes",
        "root-id", "pause-timeout-ms"};
    /** The largest memory a plugin may be given: 1 GiB. */
    static final int MAX_MEMORY_PAGES = 16384;

    PluginsReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    List<PluginConfig> plugins(KdlNode node) {
        noEntries(node);
        List<PluginConfig> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!child.name().equals("wasm")) {
                unknownNode(child, "in plugins", "wasm");
                continue;
            }
            PluginConfig plugin = wasm(child);
            if (plugin == null) {
                continue;
            }
            if (!names.add(plugin.name())) {
                problems.add(where(child.position()), "plugin \"" + plugin.name() + "\" is defined twice; plugin names must be unique");
            } else {
                out.add(plugin);
            }
        }
        return out;
    }

    private PluginConfig wasm(KdlNode node) {
        allowedProperties(node, "wasm", PROPERTIES);
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), "wasm expects exactly one value (the plugin's name), found " + node.arguments().size());
            return null;
        }
        String name = string(node.arguments().get(0), "wasm");
        Optional<KdlProperty> pathProperty = node.property("path");
        if (pathProperty.isEmpty()) {
            problems.add(where(node.position()), "wasm \"" + name + "\" needs the property path=");
            return null;
        }
        String configuration = node.property("config").map(this::stringOrEmpty).orElse(null);
        String vmConfiguration = node.property("vm-config").map(this::stringOrEmpty).orElse("");
        String rootId = node.property("root-id").map(p -> string(p.value(), "root-id")).orElse(name);
        java.util.Map<String, String> upstreams = new java.util.LinkedHashMap<>();
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "configuration" -> {
                    if (configuration != null) {
                        problems.add(where(child.position()), "the plugin configuration is given twice (config= and configuration)");
                    }
                    configuration = string(singleArgument(child), "configuration");
                }
                case "vm-configuration" -> vmConfiguration = string(singleArgument(child), "vm-configuration");
                case "upstream" -> upstream(child, upstreams);
                default -> unknownNode(child, "in wasm \"" + name + "\"", "configuration, vm-configuration, upstream");
            }
        }
        boolean failOpen = node.property("fail-open").map(p -> bool(p.value(), "fail-open")).filter(b -> b != null).orElse(false);
        int pages = positive(node, "max-memory-pages", PluginConfig.DEFAULT_MAX_MEMORY_PAGES);
        if (pages > MAX_MEMORY_PAGES) {
            problems.add(where(node.property("max-memory-pages").get().value().position()),
                    "max-memory-pages must be at most " + MAX_MEMORY_PAGES + " (1 GiB), found " + pages);
        }
        int timeout = positive(node, "call-timeout-ms", PluginConfig.DEFAULT_CALL_TIMEOUT_MS);
        int maxBody = positive(node, "max-body-bytes", PluginConfig.DEFAULT_MAX_BODY_BYTES);
        int pauseTimeout = positive(node, "pause-timeout-ms", PluginConfig.DEFAULT_PAUSE_TIMEOUT_MS);
        Path path = readable(pathProperty.get());
        if (path == null || name == null) {
            return null;
        }
        String problem = proxyWasmProblem(path);
        if (problem != null) {
            problems.add(where(pathProperty.get().value().position()), "wasm \"" + name + "\": " + path + " " + problem);
            return null;
        }
        return new PluginConfig(name, path, configuration == null ? "" : configuration, vmConfiguration == null ? "" : vmConfiguration,
                failOpen, pages, timeout, upstreams, maxBody, rootId == null ? name : rootId, pauseTimeout,
                problems.at(where(node.position())));
    }

    /** {@code upstream "name" "ip:port"}: a call-out target, by the name the plugin dispatches to. */
    private void upstream(KdlNode node, java.util.Map<String, String> upstreams) {
        allowedProperties(node, "upstream");
        noChildren(node);
        if (node.arguments().size() != 2) {
            problems.add(where(node.position()), "upstream expects a name and an address (\"auth\" \"127.0.0.1:9100\"), found "
                    + node.arguments().size() + " values");
            return;
        }
        String upstream = string(node.arguments().get(0), "upstream");
        String address = string(node.arguments().get(1), "upstream");
        if (upstream == null || address == null) {
            return;
        }
        int colon = address.lastIndexOf(':');
        String ip = colon < 0 ? "" : address.substring(0, colon).replace("[", "").replace("]", "");
        int port = -1;
        try {
            port = colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            // reported below
        }
        if (io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip) == null || port < 1 || port > 65535) {
            problems.add(where(node.arguments().get(1).position()), "upstream \"" + upstream + "\": \"" + address
                    + "\" is not an IP literal and port (127.0.0.1:9100, [::1]:9100)");
        } else if (upstreams.putIfAbsent(upstream, address) != null) {
            problems.add(where(node.position()), "upstream \"" + upstream + "\" is given twice");
        }
    }

    private int positive(KdlNode node, String key, int fallback) {
        Integer n = node.property(key).map(p -> positiveInt(p.value(), key)).orElse(null);
        return n == null ? fallback : n;
    }

    /** Why {@code path} is not a proxy-wasm plugin, or null when it is one. */
    static String proxyWasmProblem(Path path) {
        WasmModule module;
        try {
            module = Parser.parse(path);
        } catch (ChicoryException | IllegalArgumentException | java.io.UncheckedIOException e) {
            return "is not a valid WebAssembly module (" + e.getMessage() + ")";
        }
        boolean abi = false;
        boolean memory = false;
        for (int i = 0; i < module.exportSection().exportCount(); i++) {
            var export = module.exportSection().getExport(i);
            abi |= export.exportType() == ExternalType.FUNCTION && export.name().startsWith("proxy_abi_version_");
            memory |= export.exportType() == ExternalType.MEMORY && export.name().equals("memory");
        }
        if (!abi) {
            return "exports no proxy_abi_version_* function; it is not a proxy-wasm plugin";
        }
        if (!memory) {
            return "exports no memory named \"memory\"";
        }
        return null;
    }
}
