package river.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import river.config.LoadBalanceConfig.HashKey;
import river.config.LoadBalanceConfig.Selection;
import river.kdl.KdlDocument;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/**
 * Turns a KDL document in River's schema into the configuration model, recording every error with
 * its line and column. Unknown nodes and properties are errors, never ignored.
 */
final class KdlConfigReader extends KdlSchemaReader {
    private static final List<String> SERVICE_SECTIONS = List.of(
            "listeners", "connectors", "routes", "path-control", "rate-limiting", "file-server", "timeouts", "limits", "upstream-pool",
            "normalization", "client-ip", "overload", "connection-filters", "compression", "plugins", "tls-sessions");
    KdlConfigReader(Problems problems, Path workingDirectory) {
        super(problems, new ValueRules(problems, workingDirectory));
    }

    /** Reads the document; returns null if any error was recorded. */
    RawConfig read(KdlDocument document) {
        SystemConfig system = SystemConfig.defaults();
        boolean sawSystem = false;
        List<ServiceConfig> services = null;
        AcmeConfig acme = null;
        boolean sawAcme = false;
        for (KdlNode node : document.nodes()) {
            switch (node.name()) {
                case "system" -> {
                    if (sawSystem) {
                        duplicate(node);
                    }
                    sawSystem = true;
                    system = system(node);
                }
                case "services" -> {
                    if (services != null) {
                        duplicate(node);
                    }
                    services = services(node);
                }
                case "acme" -> {
                    if (sawAcme) {
                        duplicate(node);
                    }
                    sawAcme = true;
                    acme = new AcmeReader(problems, rules).acme(node);
                }
                default -> unknownNode(node, "at the top level", "system, services, acme");
            }
        }
        if (services == null) {
            problems.add(Problems.Where.TOP, "missing required section \"services\"");
        }
        new AcmeReader(problems, rules).crossCheck(document, acme, sawAcme);
        return new RawConfig(system, services == null ? List.of() : services, sawSystem ? where(document.nodes().stream()
                .filter(n -> n.name().equals("system")).findFirst().orElseThrow().position()) : Problems.Where.TOP,
                java.util.Optional.ofNullable(acme));
    }

    // ---- system -----------------------------------------------------------------------------------

    SystemConfig system(KdlNode node) {
        noEntries(node);
        int threads = SystemConfig.DEFAULT_THREADS_PER_SERVICE;
        boolean daemonize = false;
        Optional<Path> pidFile = Optional.empty();
        Optional<Path> upgradeSocket = Optional.empty();
        int grace = SystemConfig.DEFAULT_GRACE_PERIOD_SECONDS;
        LogConfig.Access access = LogConfig.Access.DEFAULTS;
        List<String> dnsServers = List.of();
        int upgradeTimeout = Lifecycle.DEFAULTS.upgradeTimeoutSeconds();
        int closeSpread = Lifecycle.DEFAULTS.closeSpreadMs();
        int shutdownTimeout = Lifecycle.DEFAULTS.gracefulShutdownTimeoutSeconds();
        AdminConfig admin = AdminConfig.DEFAULTS;
        LogConfig log = LogConfig.DEFAULTS;
        TracingConfig tracing = TracingConfig.DEFAULTS;
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name()) && isKnown(child.name(), "threads-per-service", "daemonize", "pid-file", "upgrade-socket", "grace-period-seconds", "access-log", "dns-servers",
                    "upgrade-timeout-seconds", "close-spread-ms", "graceful-shutdown-timeout-seconds", "admin", "log", "tracing")) {
                duplicate(child);
            }
            switch (child.name()) {
                case "threads-per-service" -> {
                    Integer n = positiveInt(singleArgument(child), child.name());
                    threads = n == null ? threads : n;
                }
                case "daemonize" -> {
                    Boolean b = bool(singleArgument(child), child.name());
                    daemonize = b != null && b;
                }
                case "pid-file" -> pidFile = Optional.ofNullable(absolutePath(child));
                case "upgrade-socket" -> upgradeSocket = Optional.ofNullable(absolutePath(child));
                case "grace-period-seconds" -> {
                    Integer n = nonNegativeInt(singleArgument(child), child.name());
                    grace = n == null ? grace : n;
                }
                case "upgrade-timeout-seconds" -> {
                    Integer n = positiveInt(singleArgument(child), child.name());
                    upgradeTimeout = n == null ? upgradeTimeout : n;
                }
                case "close-spread-ms" -> {
                    Integer n = nonNegativeInt(singleArgument(child), child.name());
                    closeSpread = n == null ? closeSpread : n;
                }
                case "graceful-shutdown-timeout-seconds" -> {
                    Integer n = nonNegativeInt(singleArgument(child), child.name());
                    shutdownTimeout = n == null ? shutdownTimeout : n;
                }
                case "access-log" -> access = new LogReader(problems, rules).accessLog(child);
                case "dns-servers" -> {
                    noChildren(child);
                    allowedProperties(child, "dns-servers");
                    List<String> servers = new ArrayList<>();
                    for (KdlValue v : child.arguments()) {
                        String text = string(v, "dns-servers");
                        if (text != null && rules.hostAndPort(text, where(v.position()), "dns-servers") != null) {
                            servers.add(text);
                        }
                    }
                    if (child.arguments().isEmpty()) {
                        problems.add(where(child.position()), "dns-servers expects one or more \"IP:PORT\" values");
                    }
                    dnsServers = servers;
                }
                case "admin" -> admin = new AdminReader(problems, rules).admin(child);
                case "log" -> log = new LogReader(problems, rules).log(child);
                case "tracing" -> tracing = new TracingReader(problems, rules).tracing(child);
                default -> unknownNode(child, "in system",
                        "threads-per-service, daemonize, pid-file, upgrade-socket, grace-period-seconds, upgrade-timeout-seconds, "
                                + "close-spread-ms, graceful-shutdown-timeout-seconds, access-log, dns-servers, admin, log, tracing");
            }
        }
        return new SystemConfig(threads, daemonize, pidFile, upgradeSocket, grace, access.enabled(), dnsServers,
                new Lifecycle(upgradeTimeout, closeSpread, shutdownTimeout), new Observability(admin, log.withAccess(access), tracing));
    }

    private Path absolutePath(KdlNode node) {
        String s = string(singleArgument(node), node.name());
        return s == null ? null : rules.absolutePath(s, node.name(), where(node.arguments().get(0).position()));
    }

    // ---- services ---------------------------------------------------------------------------------

    private List<ServiceConfig> services(KdlNode node) {
        noEntries(node);
        List<ServiceConfig> services = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!names.add(child.name())) {
                problems.add(where(child.position()), "service \"" + child.name() + "\" is defined twice; service names must be unique");
            }
            ServiceConfig service = service(child);
            if (service != null) {
                services.add(service);
            }
        }
        return services;
    }

    private ServiceConfig service(KdlNode node) {
        noEntries(node);
        Map<String, KdlNode> sections = new HashMap<>();
        for (KdlNode child : node.children()) {
            if (!SERVICE_SECTIONS.contains(child.name())) {
                unknownNode(child, "in service \"" + node.name() + "\"", String.join(", ", SERVICE_SECTIONS));
            } else if (sections.putIfAbsent(child.name(), child) != null) {
                duplicate(child);
            }
        }
        KdlNode listenersNode = sections.get("listeners");
        KdlNode connectorsNode = sections.get("connectors");
        KdlNode routesNode = sections.get("routes");
        KdlNode pathControlNode = sections.get("path-control");
        KdlNode rateLimitingNode = sections.get("rate-limiting");
        KdlNode fileServerNode = sections.get("file-server");
        String service = "service \"" + node.name() + "\"";
        if (listenersNode == null) {
            problems.add(where(node.position()), service + " is missing the required section \"listeners\"");
        }
        if (fileServerNode != null) {
            for (KdlNode proxyOnly : new KdlNode[] {connectorsNode, routesNode, pathControlNode, rateLimitingNode}) {
                if (proxyOnly != null) {
                    problems.add(where(proxyOnly.position()), service + ": \"" + proxyOnly.name()
                            + "\" cannot be combined with \"file-server\"; a service either proxies or serves files");
                }
            }
        } else if (connectorsNode != null && routesNode != null) {
            problems.add(where(routesNode.position()), service + ": \"routes\" cannot be combined with \"connectors\"; "
                    + "with routes, each route has its own connectors");
        } else if (connectorsNode == null && routesNode == null) {
            problems.add(where(node.position()), service + " needs \"connectors\" or \"routes\" (to proxy) or \"file-server\" (to serve files)");
        }
        List<ListenerConfig> listeners = listenersNode == null ? List.of() : listeners(listenersNode);
        ServiceHandler handler = fileServerNode != null ? fileServer(fileServerNode)
                : connectorsNode != null ? connectors(connectorsNode)
                : routesNode != null ? routes(routesNode) : null;
        GuardsReader guards = new GuardsReader(problems, rules);
        PathControlConfig pathControl = pathControlNode == null ? PathControlConfig.empty() : guards.pathControl(pathControlNode);
        GuardsReader.RateLimiting rateLimiting = rateLimitingNode == null ? new GuardsReader.RateLimiting(List.of(), Optional.empty())
                : guards.rateLimiting(rateLimitingNode);
        List<RateLimitRule> rateLimits = rateLimiting.rules();
        KdlNode normalizationNode = sections.get("normalization");
        KdlNode clientIpNode = sections.get("client-ip");
        KdlNode overloadNode = sections.get("overload");
        KdlNode connectionFiltersNode = sections.get("connection-filters");
        RequestGuards requestGuards = new RequestGuards(
                normalizationNode == null ? RequestGuards.Normalization.DEFAULT : guards.normalization(normalizationNode),
                Optional.ofNullable(clientIpNode == null ? null : guards.clientIp(clientIpNode)),
                Optional.ofNullable(overloadNode == null ? null : guards.overload(overloadNode)),
                connectionFiltersNode == null ? List.of() : guards.connectionFilters(connectionFiltersNode),
                rateLimiting.redis(),
                guards.clientLimits(sections.get("limits")));
        HttpSettings http = httpSettings(sections.get("timeouts"), sections.get("limits"), sections.get("upstream-pool"));
        if (handler == null) {
            return null;
        }
        KdlNode compressionNode = sections.get("compression");
        CompressionConfig compression = compressionNode == null ? CompressionConfig.defaults()
                : new CompressionReader(problems, rules).compression(compressionNode);
        KdlNode pluginsNode = sections.get("plugins");
        List<PluginConfig> plugins = pluginsNode == null ? List.of() : new PluginsReader(problems, rules).plugins(pluginsNode);
        KdlNode sessionsNode = sections.get("tls-sessions");
        TlsSessions sessions = sessionsNode == null ? TlsSessions.DEFAULTS : tlsSessions(sessionsNode);
        if (sessions == null) {
            return null;
        }
        return new ServiceConfig(node.name(), listeners, handler, pathControl, rateLimits, http, requestGuards, compression, plugins, sessions);
    }

    /** The service's {@code tls-sessions} node: properties only; null after an error. */
    private TlsSessions tlsSessions(KdlNode node) {
        noArguments(node);
        noChildren(node);
        allowedProperties(node, "tls-sessions", "tickets", "ticket-key-path", "ticket-rotation-ms", "cache-size", "timeout-ms");
        TlsSessions d = TlsSessions.DEFAULTS;
        int before = problems.size();
        boolean tickets = node.property("tickets").map(p -> bool(p.value(), "tickets")).orElse(d.tickets());
        Optional<KdlProperty> keyFile = node.property("ticket-key-path");
        Path keyPath = keyFile.map(this::ticketKeys).orElse(null);
        keyFile.filter(p -> !tickets).ifPresent(p -> problems.add(where(p.position()),
                "tls-sessions: ticket-key-path needs tickets=true"));
        node.property("ticket-rotation-ms").filter(p -> keyFile.isPresent()).ifPresent(p -> problems.add(where(p.position()),
                "tls-sessions: ticket-rotation-ms is for River's own keys; with ticket-key-path, keys change when the file does"));
        int rotation = setting(node, "ticket-rotation-ms", (int) d.ticketRotationMs());
        // An invalid value maps to empty (the default) after its error is recorded, and the error fails the node below.
        int cacheSize = node.property("cache-size").map(p -> nonNegativeInt(p.value(), "cache-size")).orElse(d.cacheSize());
        int timeout = setting(node, "timeout-ms", (int) d.timeoutMs());
        node.property("timeout-ms").filter(p -> timeout < 1000 || timeout > TlsSessions.MAX_TIMEOUT_MS).ifPresent(p -> problems.add(
                where(p.value().position()), "tls-sessions: timeout-ms must be 1000 to " + TlsSessions.MAX_TIMEOUT_MS + " (seven days, RFC 8446), found " + timeout));
        if (problems.size() != before) {
            return null;
        }
        return new TlsSessions(tickets, Optional.ofNullable(keyPath), rotation, cacheSize, timeout);
    }

    /** A {@code ticket-key-path} property: a readable file of whole 48-byte keys; null after an error. */
    private Path ticketKeys(KdlProperty property) {
        Path p = readable(property);
        if (p == null) {
            return null;
        }
        try {
            TlsSessions.readTicketKeys(p);
            return p;
        } catch (java.io.IOException e) {
            problems.add(where(property.value().position()), "ticket-key-path \"" + stringOrNull(property) + "\": " + e.getMessage());
            return null;
        }
    }

    // ---- engine settings --------------------------------------------------------------------------

    HttpSettings httpSettings(KdlNode timeouts, KdlNode limits, KdlNode pool) {
        HttpSettings d = HttpSettings.defaults();
        for (KdlNode n : new KdlNode[] {timeouts, limits, pool}) {
            if (n != null) {
                noArguments(n);
                noChildren(n);
            }
        }
        if (timeouts != null) {
            allowedProperties(timeouts, "timeouts", "connect-ms", "request-header-ms", "keepalive-idle-ms", "upstream-response-ms", "body-idle-ms", "tunnel-idle-ms", "tls-handshake-ms");
        }
        if (limits != null) {
            allowedProperties(limits, "limits", ClientLimits.keysAnd("max-request-line-bytes", "max-request-header-bytes"));
        }
        if (pool != null) {
            allowedProperties(pool, "upstream-pool", "idle-timeout-ms", "max-idle-per-upstream");
        }
        return new HttpSettings(
                setting(timeouts, "connect-ms", d.connectTimeoutMs()),
                setting(timeouts, "request-header-ms", d.requestHeaderTimeoutMs()),
                setting(timeouts, "keepalive-idle-ms", d.keepaliveIdleTimeoutMs()),
                setting(timeouts, "upstream-response-ms", d.upstreamResponseTimeoutMs()),
                setting(timeouts, "body-idle-ms", d.bodyIdleTimeoutMs()),
                setting(limits, "max-request-line-bytes", d.maxRequestLineBytes()),
                setting(limits, "max-request-header-bytes", d.maxRequestHeaderBytes()),
                setting(pool, "idle-timeout-ms", d.poolIdleTimeoutMs()),
                pool == null || pool.property("max-idle-per-upstream").isEmpty() ? d.poolMaxIdlePerUpstream()
                        : orDefault(nonNegativeInt(pool.property("max-idle-per-upstream").get().value(), "max-idle-per-upstream"), d.poolMaxIdlePerUpstream()),
                setting(timeouts, "tunnel-idle-ms", d.tunnelIdleTimeoutMs()),
                setting(timeouts, "tls-handshake-ms", d.tlsHandshakeTimeoutMs()));
    }

    private int setting(KdlNode node, String key, int defaultValue) {
        if (node == null || node.property(key).isEmpty()) {
            return defaultValue;
        }
        return orDefault(positiveInt(node.property(key).get().value(), key), defaultValue);
    }

    private static int orDefault(Integer value, int defaultValue) {
        return value == null ? defaultValue : value;
    }

    // ---- listeners --------------------------------------------------------------------------------

    private List<ListenerConfig> listeners(KdlNode node) {
        noEntries(node);
        List<ListenerConfig> listeners = new ArrayList<>();
        for (KdlNode child : node.children()) {
            ListenerConfig listener = listener(child);
            if (listener != null) {
                listeners.add(listener);
            }
        }
        if (node.children().isEmpty()) {
            problems.add(where(node.position()), "listeners must hold at least one listener address");
        }
        return listeners;
    }

    ListenerConfig listener(KdlNode node) {
        noArguments(node);
        allowedProperties(node, "listener", "cert-path", "key-path", "offer-h2", "h2c", "proxy-protocol", "tls-min-version", "tls-ciphers",
                "ocsp-response-path", "acme-domains");
        ListenAddress address = rules.listenAddress(node.name(), where(node.position()));
        Optional<KdlProperty> cert = node.property("cert-path");
        Optional<KdlProperty> key = node.property("key-path");
        if (cert.isPresent() != key.isPresent()) {
            KdlProperty given = cert.orElseGet(key::get);
            problems.add(where(given.position()), "listener \"" + node.name() + "\": cert-path and key-path must be given together");
        }
        boolean staticCertificate = cert.isPresent() && key.isPresent();
        Optional<KdlProperty> acme = node.property("acme-domains");
        List<String> acmeDomains = acme.map(this::acmeDomains).orElse(List.of());
        // A listener with acme-domains is a TLS listener even before it has a certificate.
        boolean tls = staticCertificate || acme.isPresent();
        for (String tlsOnly : List.of("offer-h2", "tls-min-version", "tls-ciphers", "ocsp-response-path")) {
            node.property(tlsOnly).filter(p -> !tls).ifPresent(p -> problems.add(where(p.position()),
                    "listener \"" + node.name() + "\": " + tlsOnly + " needs TLS; set cert-path and key-path, or acme-domains"));
        }
        node.property("ocsp-response-path").filter(p -> tls && !staticCertificate).ifPresent(p -> problems.add(where(p.position()),
                "listener \"" + node.name() + "\": ocsp-response-path is for the listener's own certificate; set cert-path and key-path"));
        if (tls && address instanceof ListenAddress.Unix) {
            problems.add(where(node.position()), "listener \"" + node.name() + "\": TLS is not supported on unix sockets");
        }
        Optional<TlsSettings> tlsSettings = Optional.empty();
        if (tls) {
            Path certPath = staticCertificate ? readable(cert.get()) : null;
            Path keyPath = staticCertificate ? readable(key.get()) : null;
            String minVersion = node.property("tls-min-version")
                    .map(p -> rules.tlsMinVersion(stringOrNull(p), where(p.value().position())))
                    .orElse(TlsSettings.DEFAULT_MIN_VERSION);
            List<String> ciphers = node.property("tls-ciphers")
                    .map(p -> rules.tlsCiphers(stringOrEmpty(p), where(p.value().position())))
                    .orElse(List.of());
            List<TlsSettings.SniCertificate> sni = sniCertificates(node);
            Optional<KdlProperty> ocsp = node.property("ocsp-response-path").filter(p -> staticCertificate);
            Path ocspPath = ocsp.map(this::ocspResponse).orElse(null);
            if ((!staticCertificate || (certPath != null && keyPath != null)) && minVersion != null && ciphers != null && sni != null
                    && (ocsp.isEmpty() || ocspPath != null) && acmeDomains != null) {
                tlsSettings = Optional.of(new TlsSettings(Optional.ofNullable(certPath), Optional.ofNullable(keyPath), minVersion, ciphers, sni,
                        Optional.ofNullable(ocspPath)));
            }
        } else if (!node.children().isEmpty()) {
            problems.add(where(node.children().get(0).position()),
                    "listener \"" + node.name() + "\": sni certificates need TLS; set cert-path and key-path");
        }
        boolean offerH2 = node.property("offer-h2").map(p -> bool(p.value(), "offer-h2")).map(b -> b != null && b).orElse(tls);
        boolean proxyProtocol = node.property("proxy-protocol").map(p -> bool(p.value(), "proxy-protocol")).map(b -> b != null && b).orElse(false);
        boolean h2c = node.property("h2c").map(p -> bool(p.value(), "h2c")).map(b -> b != null && b).orElse(false);
        node.property("h2c").filter(p -> tls && h2c).ifPresent(p -> problems.add(where(p.position()),
                "listener \"" + node.name() + "\": h2c is for cleartext listeners; with TLS, HTTP/2 is negotiated through offer-h2"));
        return address == null || acmeDomains == null ? null
                : new ListenerConfig(address, tlsSettings, offerH2, proxyProtocol, h2c, acmeDomains);
    }

    /**
     * An {@code acme-domains="a.com, *.a.com"} property: comma-separated DNS names, each optionally
     * {@code *.} and a name, lower-cased and trimmed, each kept once; null after an error.
     */
    private List<String> acmeDomains(KdlProperty property) {
        String text = stringOrNull(property);
        if (text == null) {
            return null;
        }
        Problems.Where at = where(property.value().position());
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
        boolean ok = true;
        for (String part : text.split(",", -1)) {
            String name = part.strip().toLowerCase(java.util.Locale.ROOT);
            if (name.isEmpty()) {
                if (!text.isBlank()) {
                    problems.add(at, "acme-domains \"" + text + "\": an empty name between commas");
                    ok = false;
                }
                continue;
            }
            if (rules.acmeDomain(name, at) == null) {
                ok = false;
            } else {
                names.add(name);
            }
        }
        if (ok && names.isEmpty()) {
            problems.add(at, "acme-domains must name at least one domain, such as \"example.com, www.example.com\"");
            return null;
        }
        return ok ? List.copyOf(names) : null;
    }

    /** An {@code ocsp-response-path} property: a readable file holding a DER OCSP response; null after an error. */
    private Path ocspResponse(KdlProperty property) {
        String s = stringOrNull(property);
        return s == null ? null : rules.ocspResponseFile(s, property.key(), where(property.value().position()));
    }

    /** The listener's {@code sni "NAME" cert-path=… key-path=…} children; null after an error. */
    private List<TlsSettings.SniCertificate> sniCertificates(KdlNode listener) {
        List<TlsSettings.SniCertificate> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        boolean ok = true;
        for (KdlNode child : listener.children()) {
            if (!child.name().equals("sni")) {
                unknownNode(child, "in listener \"" + listener.name() + "\"", "sni");
                ok = false;
                continue;
            }
            noChildren(child);
            String name = string(singleArgument(child, "cert-path", "key-path", "ocsp-response-path"), "sni");
            String host = name == null ? null : rules.serverName(name.startsWith("*.") ? name.substring(2) : name, "sni",
                    where(child.arguments().get(0).position()));
            Optional<KdlProperty> cert = child.property("cert-path");
            Optional<KdlProperty> key = child.property("key-path");
            if (cert.isEmpty() || key.isEmpty()) {
                problems.add(where(child.position()), "sni \"" + name + "\" needs cert-path and key-path");
                ok = false;
                continue;
            }
            Path certPath = readable(cert.get());
            Path keyPath = readable(key.get());
            Optional<KdlProperty> ocsp = child.property("ocsp-response-path");
            Path ocspPath = ocsp.map(this::ocspResponse).orElse(null);
            if (host != null && !names.add(name.toLowerCase(java.util.Locale.ROOT))) {
                problems.add(where(child.position()), "sni \"" + name + "\" is given twice on this listener");
                ok = false;
            }
            if (host == null || certPath == null || keyPath == null || (ocsp.isPresent() && ocspPath == null)) {
                ok = false;
                continue;
            }
            out.add(new TlsSettings.SniCertificate(name.toLowerCase(java.util.Locale.ROOT), certPath, keyPath, Optional.ofNullable(ocspPath)));
        }
        return ok ? out : null;
    }

    // ---- connectors -------------------------------------------------------------------------------

    private ServiceHandler.Proxy connectors(KdlNode node) {
        noEntries(node);
        List<ConnectorConfig> connectors = new ArrayList<>();
        LoadBalanceConfig loadBalance = LoadBalanceConfig.defaults();
        boolean sawLoadBalance = false;
        for (KdlNode child : node.children()) {
            if (child.name().equals("load-balance")) {
                if (sawLoadBalance) {
                    duplicate(child);
                }
                sawLoadBalance = true;
                loadBalance = loadBalance(child);
                continue;
            }
            ConnectorConfig connector = connector(child);
            if (connector != null) {
                connectors.add(connector);
            }
        }
        if (node.children().stream().noneMatch(c -> !c.name().equals("load-balance"))) {
            problems.add(where(node.position()), "connectors must hold at least one upstream address, dns or srv entry");
        }
        return new ServiceHandler.Proxy(connectors, loadBalance);
    }

    private static final String[] CONNECTION_SETTINGS = {"tls-sni", "proto", "weight", "ca-path", "tls-verify",
        "connection-timeout-ms", "total-connection-timeout-ms", "read-timeout-ms", "write-timeout-ms", "idle-timeout-ms", "send-proxy-protocol"};
    private static final String[] DISCOVERY_SETTINGS = {"tls", "refresh", "refresh-seconds", "min-refresh-seconds", "max-refresh-seconds"};

    private ConnectorConfig connector(KdlNode node) {
        noChildren(node);
        ConnectorConfig.Source source;
        boolean discovered = node.name().equals("dns") || node.name().equals("srv");
        if (node.name().equals("dns")) {
            allowedProperties(node, "dns connector", concat(CONNECTION_SETTINGS, DISCOVERY_SETTINGS, "port"));
            String host = discoveredName(node, "dns");
            Integer port = node.property("port").map(p -> port(p.value())).orElse(null);
            if (node.property("port").isEmpty()) {
                problems.add(where(node.position()), "dns \"" + host + "\" needs port=PORT: address records carry no port");
            }
            source = host == null || port == null ? null : new ConnectorConfig.Source.Dns(host, port);
        } else if (node.name().equals("srv")) {
            allowedProperties(node, "srv connector", concat(CONNECTION_SETTINGS, DISCOVERY_SETTINGS));
            String name = discoveredName(node, "srv");
            if (name != null && !name.startsWith("_")) {
                problems.add(where(node.arguments().get(0).position()), "srv expects a name like \"_service._proto.domain\", found \"" + name + "\"");
            }
            source = name == null ? null : new ConnectorConfig.Source.Srv(name);
        } else {
            noArguments(node);
            allowedProperties(node, "connector", concat(CONNECTION_SETTINGS, new String[] {"tls"}));
            node.property("tls").ifPresent(p -> problems.add(where(p.position()),
                    "tls=true is only for dns and srv connectors; an address was not discovered under a name, so set tls-sni"));
            String[] hostPort = rules.hostAndPort(node.name(), where(node.position()), "connector");
            source = hostPort == null ? null : new ConnectorConfig.Source.Address(hostPort[0], Integer.parseInt(hostPort[1]));
        }
        Optional<String> sni = node.property("tls-sni")
                .map(p -> {
                    String s = stringOrNull(p);
                    return s == null ? null : rules.serverName(s, where(p.value().position()));
                });
        Boolean tlsFromName = discovered ? node.property("tls").map(p -> bool(p.value(), "tls")).orElse(false) : Boolean.FALSE;
        if (Boolean.TRUE.equals(tlsFromName) && node.property("tls-sni").isPresent()) {
            problems.add(where(node.property("tls").get().position()), node.name() + ": set either tls=true or tls-sni, not both");
        }
        boolean tls = node.property("tls-sni").isPresent() || Boolean.TRUE.equals(tlsFromName);
        UpstreamProto proto = node.property("proto")
                .map(p -> {
                    String s = stringOrNull(p);
                    return s == null ? null : rules.proto(s, tls, where(p.value().position()));
                })
                .orElse(tls ? UpstreamProto.H2_OR_H1 : UpstreamProto.H1_ONLY);
        Integer weight = node.property("weight").map(p -> positiveInt(p.value(), "weight")).orElse(ConnectorConfig.DEFAULT_WEIGHT);
        for (String tlsOnly : List.of("ca-path", "tls-verify")) {
            node.property(tlsOnly).filter(p -> !tls).ifPresent(p -> problems.add(where(p.position()),
                    "connector \"" + node.name() + "\": " + tlsOnly + " needs TLS to the connector; set tls-sni"));
        }
        Optional<Path> caPath = node.property("ca-path").filter(p -> tls).map(this::readable);
        Boolean verify = node.property("tls-verify").map(p -> bool(p.value(), "tls-verify")).orElse(true);
        ConnectorConfig.Timeouts timeouts = new ConnectorConfig.Timeouts(optionalMs(node, "connection-timeout-ms"),
                optionalMs(node, "total-connection-timeout-ms"), optionalMs(node, "read-timeout-ms"),
                optionalMs(node, "write-timeout-ms"), optionalMs(node, "idle-timeout-ms"));
        ConnectorConfig.Refresh refresh = refresh(node);
        Integer sendProxy = node.property("send-proxy-protocol").map(p -> {
            String v = stringOrNull(p);
            if (v == null) {
                return null;
            }
            if (!v.equals("v1") && !v.equals("v2")) {
                problems.add(where(p.value().position()), "send-proxy-protocol must be \"v1\" or \"v2\", found \"" + v + "\"");
                return null;
            }
            return v.equals("v1") ? 1 : 2;
        }).orElse(0);
        if (sendProxy == null || source == null || proto == null || weight == null || verify == null || tlsFromName == null
                || (node.property("tls-sni").isPresent() && sni.isEmpty())
                || (node.property("ca-path").isPresent() && tls && caPath.isEmpty())) {
            return null;
        }
        return new ConnectorConfig(source, sni, tlsFromName, proto, weight, caPath, verify, timeouts, refresh, sendProxy);
    }

    private String discoveredName(KdlNode node, String kind) {
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), kind + " expects exactly one name, found " + node.arguments().size() + " values");
            return null;
        }
        String name = string(node.arguments().get(0), kind);
        return name == null ? null : rules.serverName(name.startsWith("_") ? name.replace("_", "x") : name, kind,
                where(node.arguments().get(0).position())) == null ? null : name;
    }

    private ConnectorConfig.Refresh refresh(KdlNode node) {
        Optional<KdlProperty> mode = node.property("refresh");
        mode.ifPresent(p -> {
            String s = stringOrNull(p);
            if (s != null && !s.equals("ttl")) {
                problems.add(where(p.value().position()), "refresh must be \"ttl\" (or use refresh-seconds=N), found \"" + s + "\"");
            }
        });
        int fixed = optionalMs(node, "refresh-seconds");
        if (mode.isPresent() && fixed > 0) {
            problems.add(where(node.property("refresh-seconds").get().position()), "set either refresh=\"ttl\" or refresh-seconds, not both");
        }
        int min = optionalMs(node, "min-refresh-seconds");
        int max = optionalMs(node, "max-refresh-seconds");
        if (min > 0 && max > 0 && min > max) {
            problems.add(where(node.position()), "min-refresh-seconds (" + min + ") is above max-refresh-seconds (" + max + ")");
        }
        return new ConnectorConfig.Refresh(fixed, min, max);
    }

    private LoadBalanceConfig loadBalance(KdlNode node) {
        noEntries(node);
        Selection selection = new Selection.RoundRobin();
        LoadBalanceConfig.HealthCheck health = new LoadBalanceConfig.HealthCheck.None();
        LoadBalanceConfig.RefreshBounds bounds = LoadBalanceConfig.RefreshBounds.DEFAULT;
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name()) && isKnown(child.name(), "selection", "discovery", "health-check", "refresh-bounds")) {
                duplicate(child);
            }
            noChildren(child);
            switch (child.name()) {
                case "selection" -> {
                    Selection s = selection(child);
                    selection = s == null ? selection : s;
                }
                case "discovery" -> {
                    // Deprecated in River 0.8 (connectors say what is discovered); "Static" still loads.
                    String kind = string(singleArgument(child), "discovery");
                    if (kind != null && !kind.equals("Static")) {
                        problems.add(where(child.arguments().get(0).position()), "discovery must be \"Static\", found \"" + kind
                                + "\"; discovered servers are connector entries: dns \"NAME\" port=N or srv \"_svc._proto.NAME\"");
                    }
                }
                case "health-check" -> {
                    LoadBalanceConfig.HealthCheck h = healthCheck(child);
                    health = h == null ? health : h;
                }
                case "refresh-bounds" -> {
                    noArguments(child);
                    allowedProperties(child, "refresh-bounds", "min-seconds", "max-seconds");
                    int min = optionalMs(child, "min-seconds");
                    int max = optionalMs(child, "max-seconds");
                    min = min == 0 ? LoadBalanceConfig.RefreshBounds.DEFAULT.minSeconds() : min;
                    max = max == 0 ? LoadBalanceConfig.RefreshBounds.DEFAULT.maxSeconds() : max;
                    if (min > max) {
                        problems.add(where(child.position()), "refresh-bounds: min-seconds (" + min + ") is above max-seconds (" + max + ")");
                    } else {
                        bounds = new LoadBalanceConfig.RefreshBounds(min, max);
                    }
                }
                default -> unknownNode(child, "in load-balance", "selection, health-check, refresh-bounds, discovery");
            }
        }
        return new LoadBalanceConfig(selection, health, bounds);
    }

    private LoadBalanceConfig.HealthCheck healthCheck(KdlNode node) {
        String[] schedule = {"frequency-ms", "timeout-ms", "consecutive-failure", "consecutive-success", "parallel"};
        String kind = node.arguments().size() == 1 ? string(node.arguments().get(0), "health-check") : null;
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), "health-check expects exactly one kind: \"None\", \"TCP\" or \"HTTP\"");
            return null;
        }
        if (kind == null) {
            return null;
        }
        switch (kind) {
            case "None" -> {
                allowedProperties(node, "health-check \"None\"");
                return new LoadBalanceConfig.HealthCheck.None();
            }
            case "TCP" -> {
                allowedProperties(node, "health-check \"TCP\"", concat(schedule, new String[] {"tls-sni"}));
                Optional<String> sni = node.property("tls-sni").map(this::stringOrNull)
                        .map(s -> rules.serverName(s, where(node.property("tls-sni").get().value().position())));
                LoadBalanceConfig.Schedule when = schedule(node);
                return when == null ? null : new LoadBalanceConfig.HealthCheck.Tcp(sni, when);
            }
            case "HTTP" -> {
                allowedProperties(node, "health-check \"HTTP\"", concat(schedule,
                        new String[] {"host", "path", "tls", "expect-status", "port", "reuse-connection"}));
                String host = requiredString(node, "host");
                String path = node.property("path").map(this::stringOrNull).orElse("/");
                if (path != null && !path.startsWith("/")) {
                    problems.add(where(node.property("path").get().value().position()), "health-check path must start with /, found \"" + path + "\"");
                }
                Boolean tls = node.property("tls").map(p -> bool(p.value(), "tls")).orElse(false);
                Integer status = node.property("expect-status").map(p -> positiveInt(p.value(), "expect-status")).orElse(200);
                if (status != null && (status < 100 || status > 599)) {
                    problems.add(where(node.property("expect-status").get().value().position()), "expect-status must be 100 to 599, found " + status);
                    status = null;
                }
                Optional<Integer> port = node.property("port").map(p -> port(p.value()));
                Boolean reuse = node.property("reuse-connection").map(p -> bool(p.value(), "reuse-connection")).orElse(false);
                LoadBalanceConfig.Schedule when = schedule(node);
                if (host == null || path == null || tls == null || status == null || reuse == null || when == null
                        || (node.property("port").isPresent() && port.isEmpty())) {
                    return null;
                }
                return new LoadBalanceConfig.HealthCheck.Http(host, path, tls, status, port, reuse, when);
            }
            default -> {
                problems.add(where(node.arguments().get(0).position()), "health-check must be \"None\", \"TCP\" or \"HTTP\", found \"" + kind + "\"");
                return null;
            }
        }
    }

    private LoadBalanceConfig.Schedule schedule(KdlNode node) {
        LoadBalanceConfig.Schedule d = LoadBalanceConfig.Schedule.DEFAULT;
        int frequency = optionalMs(node, "frequency-ms");
        int timeout = optionalMs(node, "timeout-ms");
        int failures = optionalMs(node, "consecutive-failure");
        int successes = optionalMs(node, "consecutive-success");
        Boolean parallel = node.property("parallel").map(p -> bool(p.value(), "parallel")).orElse(false);
        if (parallel == null) {
            return null;
        }
        return new LoadBalanceConfig.Schedule(frequency == 0 ? d.frequencyMs() : frequency, timeout == 0 ? d.timeoutMs() : timeout,
                failures == 0 ? d.consecutiveFailure() : failures, successes == 0 ? d.consecutiveSuccess() : successes, parallel);
    }

    // ---- routes -----------------------------------------------------------------------------------

    private ServiceHandler.Routed routes(KdlNode node) {
        noEntries(node);
        List<RouteConfig> routes = new ArrayList<>();
        int noRouteStatus = 404;
        String noRouteBody = "";
        boolean sawNoRoute = false;
        Map<String, KdlNode> claims = new HashMap<>();
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "route" -> {
                    RouteConfig route = route(child);
                    if (route != null) {
                        String claim = route.match() + " " + route.path() + " " + new java.util.TreeSet<>(route.methods()) + " " + route.host().orElse("");
                        KdlNode earlier = claims.putIfAbsent(claim, child);
                        if (earlier != null) {
                            problems.add(where(child.position()), "route \"" + route.path() + "\" matches exactly the same requests as the route on line "
                                    + earlier.position().line() + ", so it could never be reached");
                        } else {
                            routes.add(route);
                        }
                    }
                }
                case "no-route" -> {
                    if (sawNoRoute) {
                        duplicate(child);
                    }
                    sawNoRoute = true;
                    noArguments(child);
                    noChildren(child);
                    allowedProperties(child, "no-route", "status", "body");
                    Integer status = child.property("status").map(p -> positiveInt(p.value(), "status")).orElse(404);
                    if (status != null && (status < 200 || status > 599)) {
                        problems.add(where(child.property("status").get().value().position()), "no-route status must be 200 to 599, found " + status);
                    } else if (status != null) {
                        noRouteStatus = status;
                    }
                    noRouteBody = child.property("body").map(this::stringOrEmpty).orElse("");
                }
                default -> unknownNode(child, "in routes", "route, no-route");
            }
        }
        if (routes.isEmpty() && node.children().stream().noneMatch(c -> c.name().equals("route"))) {
            problems.add(where(node.position()), "routes must hold at least one route");
        }
        routes.sort(java.util.Comparator.comparingInt((RouteConfig r) -> r.match().ordinal())
                .thenComparing(r -> r.host().isEmpty())
                .thenComparing(r -> r.match() == RouteConfig.Match.PREFIX ? -r.path().length() : 0));
        return new ServiceHandler.Routed(routes, noRouteStatus, noRouteBody);
    }

    private RouteConfig route(KdlNode node) {
        allowedProperties(node, "route", "match", "methods", "host");
        if (node.arguments().size() != 1) {
            problems.add(where(node.position()), "route expects exactly one path, found " + node.arguments().size() + " values");
            return null;
        }
        String path = string(node.arguments().get(0), "route");
        String matchName = node.property("match").map(this::stringOrNull).orElse("prefix");
        RouteConfig.Match match = null;
        for (RouteConfig.Match m : RouteConfig.Match.values()) {
            if (m.configName().equals(matchName)) {
                match = m;
            }
        }
        if (match == null && matchName != null) {
            problems.add(where(node.property("match").get().value().position()), "match must be \"prefix\", \"exact\" or \"regex\", found \"" + matchName + "\"");
        }
        Pattern regex = null;
        if (path != null && match == RouteConfig.Match.REGEX) {
            try {
                regex = Pattern.compile(path);
            } catch (java.util.regex.PatternSyntaxException e) {
                problems.add(where(node.arguments().get(0).position()), "route regex does not compile: " + e.getDescription());
                path = null;
            }
        } else if (path != null && match != null && !path.startsWith("/")) {
            problems.add(where(node.arguments().get(0).position()), "a " + match.configName() + " route must start with /, found \"" + path + "\"");
            path = null;
        }
        Set<String> methods = new HashSet<>();
        node.property("methods").map(this::stringOrNull).ifPresent(list -> {
            for (String m : list.split(",")) {
                String method = m.strip();
                if (!method.matches("[A-Za-z]+")) {
                    problems.add(where(node.property("methods").get().value().position()), "methods must be a comma-separated list of HTTP methods, found \"" + list + "\"");
                    return;
                }
                methods.add(method.toUpperCase(java.util.Locale.ROOT));
            }
        });
        Optional<String> host = node.property("host").map(this::stringOrNull).map(h -> {
            String name = h.toLowerCase(java.util.Locale.ROOT);
            return rules.serverName(name.startsWith("*.") ? name.substring(2) : name, "host",
                    where(node.property("host").get().value().position())) == null ? null : name;
        });
        KdlNode connectorsNode = null;
        for (KdlNode child : node.children()) {
            if (!child.name().equals("connectors")) {
                unknownNode(child, "in route", "connectors");
            } else if (connectorsNode != null) {
                duplicate(child);
            } else {
                connectorsNode = child;
            }
        }
        if (connectorsNode == null) {
            problems.add(where(node.position()), "route \"" + path + "\" needs a connectors block");
            return null;
        }
        ServiceHandler.Proxy upstream = connectors(connectorsNode);
        if (path == null || match == null || (node.property("host").isPresent() && host.isEmpty())) {
            return null;
        }
        return new RouteConfig(path, match, regex, methods, host, upstream);
    }

    private Selection selection(KdlNode node) {
        String kind = string(singleArgument(node, "key"), "selection");
        if (kind == null) {
            return null;
        }
        Optional<KdlProperty> keyProperty = node.property("key");
        switch (kind) {
            case "RoundRobin", "Random" -> {
                keyProperty.ifPresent(p -> problems.add(where(p.position()), "selection \"" + kind + "\" takes no key"));
                return kind.equals("Random") ? new Selection.Random() : new Selection.RoundRobin();
            }
            case "FNV", "Ketama" -> {
                if (keyProperty.isEmpty()) {
                    problems.add(where(node.position()), "selection \"" + kind + "\" needs key=\"UriPath\" or key=\"SourceAddrAndUriPath\"");
                    return null;
                }
                String key = stringOrNull(keyProperty.get());
                HashKey hashKey = null;
                for (HashKey k : HashKey.values()) {
                    if (k.configName().equals(key)) {
                        hashKey = k;
                    }
                }
                if (hashKey == null) {
                    if (key != null) {
                        problems.add(where(keyProperty.get().value().position()),
                                "key must be \"UriPath\" or \"SourceAddrAndUriPath\", found \"" + key + "\"");
                    }
                    return null;
                }
                return kind.equals("FNV") ? new Selection.Fnv(hashKey) : new Selection.Ketama(hashKey);
            }
            default -> {
                problems.add(where(node.arguments().get(0).position()),
                        "selection must be one of \"RoundRobin\", \"Random\", \"FNV\", \"Ketama\", found \"" + kind + "\"");
                return null;
            }
        }
    }

    // ---- file server ------------------------------------------------------------------------------

    private static final String FILE_SERVER_OPTIONS =
            "base-path, index-files, directory-listing, serve-dotfiles, error-page, cache-control, precompressed, open-file-cache";

    private ServiceHandler.FileServer fileServer(KdlNode node) {
        noEntries(node);
        Path basePath = null;
        List<String> indexFiles = null;
        Boolean listing = null;
        Boolean dotfiles = null;
        Boolean precompressed = null;
        ServiceHandler.FileServer.OpenFiles openFiles = null;
        boolean openFilesSeen = false;
        java.util.Map<Integer, Path> errorPages = new java.util.HashMap<>();
        List<ServiceHandler.FileServer.CacheRule> cacheRules = new ArrayList<>();
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "base-path" -> {
                    if (basePath != null) {
                        duplicate(child);
                    }
                    noChildren(child);
                    String s = string(singleArgument(child), "base-path");
                    if (s != null) {
                        basePath = rules.resolve(s);
                        if (!java.nio.file.Files.isDirectory(basePath)) {
                            problems.add(where(child.arguments().get(0).position()), "base-path \"" + s + "\": no directory at " + basePath);
                        }
                    }
                }
                case "index-files" -> {
                    if (indexFiles != null) {
                        duplicate(child);
                    }
                    noChildren(child);
                    allowedProperties(child, "index-files");
                    indexFiles = new ArrayList<>();
                    if (child.arguments().isEmpty()) {
                        problems.add(where(child.position()), "index-files expects one or more file names, e.g. index-files \"index.html\"");
                    }
                    for (KdlValue v : child.arguments()) {
                        String name = string(v, "index-files");
                        if (name == null) {
                            continue;
                        }
                        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
                            problems.add(where(v.position()), "index-files: \"" + name + "\" is not a plain file name");
                        } else {
                            indexFiles.add(name);
                        }
                    }
                }
                case "directory-listing" -> {
                    if (listing != null) {
                        duplicate(child);
                    }
                    listing = bool(singleArgument(child), "directory-listing");
                    listing = listing != null && listing;
                }
                case "serve-dotfiles" -> {
                    if (dotfiles != null) {
                        duplicate(child);
                    }
                    dotfiles = bool(singleArgument(child), "serve-dotfiles");
                    dotfiles = dotfiles != null && dotfiles;
                }
                case "precompressed" -> {
                    if (precompressed != null) {
                        duplicate(child);
                    }
                    precompressed = bool(singleArgument(child), "precompressed");
                    precompressed = precompressed != null && precompressed;
                }
                case "error-page" -> {
                    noChildren(child);
                    allowedProperties(child, "error-page");
                    if (child.arguments().size() != 2) {
                        problems.add(where(child.position()), "error-page expects a status and a file, e.g. error-page 404 \"errors/404.html\"");
                        continue;
                    }
                    Integer status = positiveInt(child.arguments().get(0), "error-page");
                    String file = string(child.arguments().get(1), "error-page");
                    if (status != null && status != 403 && status != 404) {
                        problems.add(where(child.arguments().get(0).position()), "error-page status must be 403 or 404, found " + status);
                    } else if (status != null && file != null) {
                        Path page = rules.resolve(file);
                        if (!java.nio.file.Files.isRegularFile(page)) {
                            problems.add(where(child.arguments().get(1).position()), "error-page \"" + file + "\": no file at " + page);
                        } else if (errorPages.put(status, page) != null) {
                            problems.add(where(child.position()), "error-page " + status + " is given more than once");
                        }
                    }
                }
                case "cache-control" -> {
                    noChildren(child);
                    allowedProperties(child, "cache-control");
                    if (child.arguments().size() != 2) {
                        problems.add(where(child.position()),
                                "cache-control expects a path pattern and a value, e.g. cache-control \"/assets/**\" \"max-age=31536000, immutable\"");
                        continue;
                    }
                    String pattern = string(child.arguments().get(0), "cache-control");
                    String value = string(child.arguments().get(1), "cache-control");
                    if (pattern != null && !pattern.startsWith("/")) {
                        problems.add(where(child.arguments().get(0).position()), "cache-control pattern \"" + pattern + "\" must start with /");
                    } else if (value != null && (value.isBlank() || value.chars().anyMatch(c -> c < 0x20 || c > 0x7e))) {
                        problems.add(where(child.arguments().get(1).position()), "cache-control value must be printable ASCII and not empty");
                    } else if (pattern != null && value != null) {
                        cacheRules.add(new ServiceHandler.FileServer.CacheRule(pattern, value));
                    }
                }
                case "open-file-cache" -> {
                    if (openFilesSeen) {
                        duplicate(child);
                    }
                    openFilesSeen = true;
                    noChildren(child);
                    allowedProperties(child, "open-file-cache", "max", "valid-ms");
                    if (!child.arguments().isEmpty()) {
                        problems.add(where(child.arguments().get(0).position()),
                                "open-file-cache takes only properties, e.g. open-file-cache max=1000 valid-ms=1000");
                    }
                    Integer max = child.property("max").map(p -> positiveInt(p.value(), "max")).orElse(1000);
                    Integer validMs = child.property("valid-ms").map(p -> positiveInt(p.value(), "valid-ms")).orElse(1000);
                    if (max != null && max > 100_000) {
                        problems.add(where(child.property("max").get().value().position()),
                                "open-file-cache max is at most 100000 (each entry holds an open file), found " + max);
                    } else if (max != null && validMs != null) {
                        openFiles = new ServiceHandler.FileServer.OpenFiles(max, validMs);
                    }
                }
                default -> unknownNode(child, "in file-server", FILE_SERVER_OPTIONS);
            }
        }
        if (basePath == null) {
            problems.add(where(node.position()), "file-server needs base-path \"DIRECTORY\"");
            return null;
        }
        return new ServiceHandler.FileServer(basePath, indexFiles == null ? List.of("index.html") : indexFiles,
                listing != null && listing, dotfiles != null && dotfiles, errorPages, cacheRules,
                precompressed != null && precompressed, openFiles);
    }


}
