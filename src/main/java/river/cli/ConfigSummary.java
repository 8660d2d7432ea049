package river.cli;

import river.config.ConnectorConfig;
import river.config.ListenerConfig;
import river.config.PluginConfig;
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
        var logs = system.observability().logs();
        var access = logs.access();
        out.append("logs: access-log=").append(system.accessLog() ? access.output() + " format=" + access.format().name().toLowerCase(java.util.Locale.ROOT)
                        + " queue=" + access.queueLines() : "off")
                .append(" log=").append(logs.output()).append(" format=").append(logs.format().name().toLowerCase(java.util.Locale.ROOT))
                .append(" level=").append(logs.level());
        logs.loggers().forEach((name, level) -> out.append(' ').append(name).append('=').append(level));
        out.append('\n');
        config.acme().ifPresent(acme -> {
            out.append("acme: directory=").append(acme.directory()).append(" store-dir=").append(acme.storeDir())
                    .append(" challenge=").append(acme.challenge().wireName()).append(" key-type=").append(acme.keyType().wireName())
                    .append(renewal(acme.renewal()))
                    .append(acme.profile().map(p -> " profile=" + p).orElse(""))
                    .append(acme.challengeListener().map(l -> " challenge-listener=" + l).orElse(""));
            acme.contacts().forEach(c -> out.append(" contact=").append(c));
            out.append('\n');
            acme.domains().forEach(d -> out.append("  domain ").append(d.name()).append(' ')
                    .append(acme.challengeFor(d.name()).wireName()).append(d.hook().map(h -> " hook=" + h).orElse("")).append('\n'));
        });
        for (ServiceConfig service : config.services()) {
            out.append("service ").append(service.name()).append('\n');
            for (ListenerConfig l : service.listeners()) {
                out.append("  listen ").append(l.address())
                        .append(l.tls().map(t -> " tls(cert=" + t.certPath().map(Object::toString).orElse("none") + ", min=" + t.minVersion() + ")").orElse(""))
                        .append(l.acmeDomains().isEmpty() ? "" : " acme-domains=" + String.join(",", l.acmeDomains()))
                        .append(l.offerH2() ? " h2" : "")
                        .append(l.proxyProtocol() ? " proxy-protocol" : "")
                        .append('\n');
            }
            if (service.handler() instanceof ServiceHandler.Proxy proxy) {
                connectors(out, "  ", proxy);
            } else if (service.handler() instanceof ServiceHandler.Routed routed) {
                for (var route : routed.routes()) {
                    out.append("  route ").append(route.match().configName()).append(' ').append(route.path())
                            .append(route.methods().isEmpty() ? "" : " methods=" + String.join(",", new java.util.TreeSet<>(route.methods())))
                            .append(route.host().map(h -> " host=" + h).orElse("")).append('\n');
                    connectors(out, "    ", route.upstream());
                }
                out.append("  no-route status=").append(routed.noRouteStatus()).append('\n');
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
            for (PluginConfig p : service.plugins()) {
                // The configuration buffers may hold the plugin's secrets: their sizes only.
                out.append("  wasm ").append(p.name()).append(' ').append(p.path()).append(" root-id=").append(p.rootId())
                        .append(" config=").append(p.configuration().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append("B")
                        .append(" vm-config=").append(p.vmConfiguration().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append("B")
                        .append(" fail-open=").append(p.failOpen()).append(" max-memory-pages=").append(p.maxMemoryPages())
                        .append(" call-timeout-ms=").append(p.callTimeoutMs()).append(" max-body-bytes=").append(p.maxBodyBytes())
                        .append(" pause-timeout-ms=").append(p.pauseTimeoutMs());
                new java.util.TreeMap<>(p.upstreams()).forEach((name, address) -> out.append(" upstream=").append(name).append('=').append(address));
                out.append('\n');
            }
        }
        return out.toString();
    }

    private static String renewal(river.config.AcmeConfig.Renewal renewal) {
        if (renewal instanceof river.config.AcmeConfig.Renewal.AfterIssue a) {
            return " renew-after-issue-days=" + a.days();
        }
        if (renewal instanceof river.config.AcmeConfig.Renewal.BeforeExpiry b) {
            return " renew-before-expiry-days=" + b.days();
        }
        return " renew-before-expiry=min(30d,lifetime/3)";
    }

    private static void connectors(StringBuilder out, String indent, ServiceHandler.Proxy proxy) {
        out.append(indent).append("load-balance ").append(proxy.loadBalance().selection())
                .append(" health-check ").append(proxy.loadBalance().healthCheck()).append('\n');
        for (ConnectorConfig c : proxy.connectors()) {
            out.append(indent).append("upstream ").append(c.address()).append(' ').append(c.proto().configName())
                    .append(c.tlsSni().map(s -> " tls-sni=" + s).orElse(c.tlsFromName() ? " tls=true" : ""))
                    .append(" weight=").append(c.weight()).append('\n');
        }
    }
}
