package river.config;

import java.util.List;

/**
 * One named service: where it listens and what it does with requests.
 *
 * @param handler a proxy to connectors, or a file server
 * @param pathControl filters applied to proxied requests and responses (empty for file servers)
 * @param rateLimits rules every request must obtain a token from (empty for file servers)
 * @param http the engine's limits and timeouts for this service
 * @param guards normalization, client address, overload and connection filters
 * @param compression response compression on the fly (off by default)
 * @param plugins WebAssembly filters, in the order they run (docs/wasm.md)
 * @param tlsSessions session resumption on the service's TLS listeners (docs/tls.md)
 */
public record ServiceConfig(
        String name,
        List<ListenerConfig> listeners,
        ServiceHandler handler,
        PathControlConfig pathControl,
        List<RateLimitRule> rateLimits,
        HttpSettings http,
        RequestGuards guards,
        CompressionConfig compression,
        List<PluginConfig> plugins,
        TlsSessions tlsSessions) {
    public ServiceConfig {
        listeners = List.copyOf(listeners);
        rateLimits = List.copyOf(rateLimits);
        plugins = List.copyOf(plugins);
    }

    public ServiceConfig(String name, List<ListenerConfig> listeners, ServiceHandler handler, PathControlConfig pathControl,
            List<RateLimitRule> rateLimits, HttpSettings http, RequestGuards guards, CompressionConfig compression, List<PluginConfig> plugins) {
        this(name, listeners, handler, pathControl, rateLimits, http, guards, compression, plugins, TlsSessions.DEFAULTS);
    }

    public ServiceConfig(String name, List<ListenerConfig> listeners, ServiceHandler handler, PathControlConfig pathControl,
            List<RateLimitRule> rateLimits, HttpSettings http, RequestGuards guards, CompressionConfig compression) {
        this(name, listeners, handler, pathControl, rateLimits, http, guards, compression, List.of());
    }

    public ServiceConfig(String name, List<ListenerConfig> listeners, ServiceHandler handler, PathControlConfig pathControl,
            List<RateLimitRule> rateLimits, HttpSettings http, RequestGuards guards) {
        this(name, listeners, handler, pathControl, rateLimits, http, guards, CompressionConfig.defaults());
    }

    public ServiceConfig(String name, List<ListenerConfig> listeners, ServiceHandler handler, PathControlConfig pathControl,
            List<RateLimitRule> rateLimits, HttpSettings http) {
        this(name, listeners, handler, pathControl, rateLimits, http, RequestGuards.defaults());
    }
}
