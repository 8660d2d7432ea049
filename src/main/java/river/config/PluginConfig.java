package river.config;

import java.nio.file.Path;

/**
 * One entry of a service's {@code plugins} block: a proxy-wasm filter (docs/wasm.md).
 *
 * @param name the plugin's name (logs, metrics, the {@code plugin_name} property)
 * @param path the {@code .wasm} file, checked to be a WebAssembly module exporting {@code proxy_abi_version_*}
 * @param configuration what {@code proxy_on_configure} reads (the plugin configuration buffer), empty when none
 * @param vmConfiguration what {@code proxy_on_vm_start} reads (the VM configuration buffer), empty when none
 * @param failOpen whether a request whose plugin failed goes on as if the plugin were absent (else 500)
 * @param maxMemoryPages the most 64 KiB pages the plugin's memory may grow to
 * @param callTimeoutMs the time budget of one call into the plugin, after which it is interrupted
 * @param upstreams what {@code proxy_dispatch_http_call} may call, by name: an IP literal and port each
 * @param maxBodyBytes the most of a body (either direction) River buffers for the plugin
 * @param rootId the root context's id (Envoy's {@code root_id}, the {@code plugin_root_id} property): the name when not configured
 * @param pauseTimeoutMs the longest a phase the plugin paused waits for it (to continue or answer) before River gives up on it
 * @param where where the plugin is configured ({@code file:line:col}), for an error found when it is instantiated; empty when unknown
 */
public record PluginConfig(String name, Path path, String configuration, String vmConfiguration, boolean failOpen,
        int maxMemoryPages, int callTimeoutMs, java.util.Map<String, String> upstreams, int maxBodyBytes, String rootId, int pauseTimeoutMs,
        String where) {
    public PluginConfig {
        upstreams = java.util.Map.copyOf(upstreams);
    }

    public PluginConfig(String name, Path path, String configuration, String vmConfiguration, boolean failOpen, int maxMemoryPages,
            int callTimeoutMs, java.util.Map<String, String> upstreams, int maxBodyBytes, String rootId) {
        this(name, path, configuration, vmConfiguration, failOpen, maxMemoryPages, callTimeoutMs, upstreams, maxBodyBytes, rootId,
                DEFAULT_PAUSE_TIMEOUT_MS, "");
    }

    /** Equal plugins are configured alike, wherever they are written: a reload that only moved one does not change its service. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PluginConfig p && name.equals(p.name) && path.equals(p.path) && configuration.equals(p.configuration)
                && vmConfiguration.equals(p.vmConfiguration) && failOpen == p.failOpen && maxMemoryPages == p.maxMemoryPages
                && callTimeoutMs == p.callTimeoutMs && upstreams.equals(p.upstreams) && maxBodyBytes == p.maxBodyBytes && rootId.equals(p.rootId)
                && pauseTimeoutMs == p.pauseTimeoutMs;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, path, configuration, vmConfiguration, failOpen, maxMemoryPages, callTimeoutMs, upstreams, maxBodyBytes, rootId,
                pauseTimeoutMs);
    }

    public PluginConfig(String name, Path path, String configuration, String vmConfiguration, boolean failOpen, int maxMemoryPages,
            int callTimeoutMs, java.util.Map<String, String> upstreams) {
        this(name, path, configuration, vmConfiguration, failOpen, maxMemoryPages, callTimeoutMs, upstreams, DEFAULT_MAX_BODY_BYTES);
    }

    public PluginConfig(String name, Path path, String configuration, String vmConfiguration, boolean failOpen, int maxMemoryPages,
            int callTimeoutMs, java.util.Map<String, String> upstreams, int maxBodyBytes) {
        this(name, path, configuration, vmConfiguration, failOpen, maxMemoryPages, callTimeoutMs, upstreams, maxBodyBytes, name);
    }

    public PluginConfig(String name, Path path, String configuration, String vmConfiguration, boolean failOpen, int maxMemoryPages,
            int callTimeoutMs) {
        this(name, path, configuration, vmConfiguration, failOpen, maxMemoryPages, callTimeoutMs, java.util.Map.of());
    }

    /** The memory limit when none is configured: 16 MiB. */
    public static final int DEFAULT_MAX_MEMORY_PAGES = 256;
    /** The body buffering bound when none is configured: 1 MiB. */
    public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;
    /** The time budget of a call when none is configured. */
    public static final int DEFAULT_CALL_TIMEOUT_MS = 100;
    /** How long a paused phase may wait when nothing else is configured: the longest a call-out may take. */
    public static final int DEFAULT_PAUSE_TIMEOUT_MS = 60_000;
}
