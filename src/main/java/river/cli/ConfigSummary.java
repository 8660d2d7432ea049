package river.cli;

import river.config.ConnectorConfig;
import river.config.ListenerConfig;
import river.config.RiverConfig;
import river.config.ServiceConfig;
import river.config.ServiceHandler;

/** A readable account of a loaded configuration, printed by {@code --validate-configs}. */
final class ConfigSummary {
    private ConfigSummary() {}

    static String render(RiverConfig config) {
        StringBuilder out = new StringBuilder();
        var system = config.system();
        out.append("system: threads-per-service=").append(system.threadsPerService())
                .append(" daemonize=").append(system.daemonize())
                .append(system.pidFile().map(p -> " pid-file=" + p).orElse(""))
                .append(system.upgradeSocket().map(p -> " upgrade-socket=" + p).orElse(""))
                .append('\n');
        for (ServiceConfig service : config.services()) {
            out.append("service ").append(service.name()).append('\n');
            for (ListenerConfig l : service.listeners()) {
                out.append("  listen ").append(l.address())
                        .append(l.tls().map(t -> " tls(cert=" + t.certPath() + ", min=" + t.minVersion() + ")").orElse(""))
                        .append(l.offerH2() ? " h2" : "")
                        .append(l.proxyProtocol() ? " proxy-protocol" : "")
                        .append('\n');
            }
            if (service.handler() instanceof ServiceHandler.Proxy proxy) {
                out.append("  load-balance ").append(proxy.loadBalance().selection()).append('\n');
                for (ConnectorConfig c : proxy.connectors()) {
                    out.append("  upstream ").append(c.address()).append(' ').append(c.proto().configName())
                            .append(c.tlsSni().map(s -> " tls-sni=" + s).orElse(""))
                            .append(" weight=").append(c.weight()).append('\n');
                }
            } else if (service.handler() instanceof ServiceHandler.FileServer files) {
                out.append("  file-server ").append(files.basePath()).append('\n');
            }
            var pc = service.pathControl();
            int filters = pc.requestFilters().size() + pc.upstreamRequest().size() + pc.upstreamResponse().size();
            if (filters > 0) {
                out.append("  path-control: ").append(filters).append(" filters\n");
            }
            if (!service.rateLimits().isEmpty()) {
                out.append("  rate-limiting: ").append(service.rateLimits().size()).append(" rules\n");
            }
        }
        return out.toString();
    }
}
