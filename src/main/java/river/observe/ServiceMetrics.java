package river.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import river.proxy.ProxyError;
import river.upstream.Peer;

/**
 * One service's prepared data points: request durations by route, method and status, bytes, errors
 * by kind, and its upstream servers'. Built when the service's generation is wired.
 */
public final class ServiceMetrics {
    /** OpenTelemetry's known methods; anything else is {@code _OTHER}. */
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "_OTHER"};
    /** The route label of a service without routes. */
    static final String NO_ROUTES = "default";
    /** The route label of a request no route claimed. */
    static final String UNROUTED = "no-route";
    /** The route label of a request refused before routing decided (a rate limit, a filter). */
    static final String BEFORE_ROUTING = "none";

    private final Metrics families;
    final String service;
    /** By route index; the last three are {@link #NO_ROUTES}, {@link #UNROUTED} and {@link #BEFORE_ROUTING}. */
    private final RouteSlots[] routes;
    private final boolean routed;
    final CounterDataPoint receivedBytes;
    final CounterDataPoint sentBytes;
    private final CounterDataPoint[] requestErrors = new CounterDataPoint[ProxyError.Kind.values().length];
    private final ConcurrentHashMap<String, PeerMetrics> servers;
    private final ConcurrentHashMap<String, CounterDataPoint> rejections = new ConcurrentHashMap<>();

    ServiceMetrics(Metrics families, String service, List<String> routeLabels, ServiceMetrics before) {
        this.families = families;
        this.service = service;
        this.routed = !routeLabels.isEmpty();
        this.routes = new RouteSlots[routeLabels.size() + 3];
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < routeLabels.size(); i++) {
            String label = routeLabels.get(i);
            // Two routes with one path (other methods or hosts) stay apart.
            routes[i] = new RouteSlots(seen.add(label) ? label : label + "#" + (i + 1));
        }
        routes[routeLabels.size()] = new RouteSlots(NO_ROUTES);
        routes[routeLabels.size() + 1] = new RouteSlots(UNROUTED);
        routes[routeLabels.size() + 2] = new RouteSlots(BEFORE_ROUTING);
        this.receivedBytes = families.receivedBytes.labelValues(service);
        this.sentBytes = families.sentBytes.labelValues(service);
        for (ProxyError.Kind kind : ProxyError.Kind.values()) {
            requestErrors[kind.ordinal()] = families.requestErrors.labelValues(service, kindLabel(kind));
        }
        this.servers = before == null ? new ConcurrentHashMap<>() : before.servers;
    }

    static String kindLabel(ProxyError.Kind kind) {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The duration data point of a request: by the route that claimed it, its method and the status sent. */
    DistributionDataPoint duration(int route, HttpMethod method, int status) {
        int configured = routes.length - 3;
        RouteSlots slots = route >= 0 && route < configured ? routes[route]
                : !routed ? routes[configured]
                : route == river.proxy.RequestContext.NO_ROUTE ? routes[configured + 1] : routes[configured + 2];
        return slots.byMethod(methodIndex(method)).forStatus(status);
    }

    CounterDataPoint requestError(ProxyError.Kind kind) {
        return requestErrors[kind.ordinal()];
    }

    /** The rejection counter of a configured rule (rare path: a bounded map keyed by configured names). */
    CounterDataPoint rejection(String rule) {
        CounterDataPoint point = rejections.get(rule);
        if (point == null) {
            String label = rejections.size() >= Metrics.MAX_SERVERS_PER_SERVICE ? Metrics.OVERFLOW : rule;
            point = rejections.computeIfAbsent(label, r -> families.rejections.labelValues(service, r));
        }
        return point;
    }

    /**
     * The data points of upstream server {@code peer}: created the first time it is seen, found by its
     * label after that (one lock-free hash lookup per attempt); past the cap, the shared overflow set.
     */
    PeerMetrics server(Peer peer) {
        PeerMetrics found = servers.get(peer.label());
        if (found != null) {
            return found;
        }
        if (servers.size() >= Metrics.MAX_SERVERS_PER_SERVICE) {
            return servers.computeIfAbsent(Metrics.OVERFLOW, k -> new PeerMetrics(families, service, Metrics.OVERFLOW, Metrics.OVERFLOW));
        }
        return servers.computeIfAbsent(peer.label(),
                k -> new PeerMetrics(families, service, peer.ipText(), Integer.toString(peer.address().getPort())));
    }

    /** The method's index in {@link #METHODS}: Netty's constants compare by identity, others by name. */
    static int methodIndex(HttpMethod method) {
        if (method == HttpMethod.GET) {
            return 0;
        } else if (method == HttpMethod.HEAD) {
            return 1;
        } else if (method == HttpMethod.POST) {
            return 2;
        }
        String name = method.name();
        for (int i = 3; i < METHODS.length - 1; i++) {
            if (METHODS[i].equals(name)) {
                return i;
            }
        }
        return METHODS.length - 1;
    }

    /** One route's duration data points, by method, then status. */
    private final class RouteSlots {
        private final String label;
        private final java.util.concurrent.atomic.AtomicReferenceArray<StatusSlots<DistributionDataPoint>> methods =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(METHODS.length);

        RouteSlots(String label) {
            this.label = label;
        }

        StatusSlots<DistributionDataPoint> byMethod(int m) {
            StatusSlots<DistributionDataPoint> slots = methods.get(m);
            if (slots == null) {
                String method = METHODS[m];
                slots = new StatusSlots<>(status -> families.serverDuration.labelValues(service, label, method, status));
                if (!methods.compareAndSet(m, null, slots)) {
                    slots = methods.get(m);
                }
            }
            return slots;
        }
    }
}
