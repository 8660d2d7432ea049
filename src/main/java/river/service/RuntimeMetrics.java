package river.service;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import river.balance.PeerHealth;
import river.balance.UpstreamGroup;
import river.server.ServerTls;
import river.upstream.Peer;

/**
 * The metrics read from River's runtime objects when Prometheus scrapes, not counted per request:
 * upstream health and ejections, pool sizes, HTTP/2 streams, open client connections by protocol,
 * TLS handshakes and certificate expiry, the generation serving. They follow the current
 * generation, so a reload's new upstreams and listeners appear on the next scrape.
 */
final class RuntimeMetrics {
    private RuntimeMetrics() {}

    static void register(PrometheusRegistry registry, Supplier<Generation> current, Iterable<Channel> connections,
            Supplier<Map<Channel, String>> serviceByListener) {
        GaugeWithCallback.builder().name("river_upstream_healthy")
                .help("1 when the upstream server gets traffic (active checks pass and not ejected), else 0")
                .labelNames("service", "group", "server_address", "server_port")
                .callback(cb -> eachPeer(current.get(), (service, group, peer, health) ->
                        cb.call(health.serving() ? 1 : 0, service, group.name(), peer.ipText(), port(peer))))
                .register(registry);
        CounterWithCallback.builder().name("river_upstream_ejections")
                .help("Times failed requests ejected the upstream server from selection")
                .labelNames("service", "group", "server_address", "server_port")
                .callback(cb -> eachPeer(current.get(), (service, group, peer, health) ->
                        cb.call(health.ejections(), service, group.name(), peer.ipText(), port(peer))))
                .register(registry);
        GaugeWithCallback.builder().name("river_upstream_pool_connections")
                .help("Pooled HTTP/1.1 upstream connections by state (idle, in_use)")
                .labelNames("service", "state")
                .callback(cb -> {
                    for (ServiceGeneration s : current.get().services()) {
                        if (s.pool() != null) {
                            int idle = s.pool().idleCount();
                            cb.call(idle, s.name(), "idle");
                            cb.call(Math.max(0, s.pool().openHttp1Connections() - idle), s.name(), "in_use");
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("river_upstream_http2_streams")
                .help("Open streams on the HTTP/2 connections to each upstream server")
                .labelNames("service", "server")
                .callback(cb -> {
                    for (ServiceGeneration s : current.get().services()) {
                        if (s.pool() != null) {
                            s.pool().http2StreamsByPeer().forEach((peer, streams) -> cb.call(streams, s.name(), peer));
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("river_downstream_connections")
                .help("Open client connections by protocol (http1, h2, other: TLS handshake, protocol detection, tunnel)")
                .labelNames("service", "protocol")
                .callback(cb -> {
                    Map<Channel, String> services = serviceByListener.get();
                    Map<String, int[]> counts = new HashMap<>();
                    for (Channel ch : connections) {
                        String service = ch.parent() == null ? null : services.get(ch.parent());
                        if (service != null) {
                            counts.computeIfAbsent(service, k -> new int[3])[protocol(ch)]++;
                        }
                    }
                    for (ServiceGeneration s : current.get().services()) {
                        int[] c = counts.getOrDefault(s.name(), new int[3]);
                        cb.call(c[0], s.name(), "http1");
                        cb.call(c[1], s.name(), "h2");
                        cb.call(c[2], s.name(), "other");
                    }
                }).register(registry);
        CounterWithCallback.builder().name("river_tls_handshakes")
                .help("TLS handshakes completed on client connections").labelNames("service", "listener")
                .callback(cb -> eachTls(current.get(), (service, listener, tls) -> cb.call(tls.handshakesCompleted(), service, listener)))
                .register(registry);
        CounterWithCallback.builder().name("river_tls_handshakes_resumed")
                .help("TLS handshakes completed by resuming a session (ticket or cache; BoringSSL only)").labelNames("service", "listener")
                .callback(cb -> eachTls(current.get(), (service, listener, tls) -> cb.call(tls.handshakesResumed(), service, listener)))
                .register(registry);
        CounterWithCallback.builder().name("river_tls_handshake_failures")
                .help("TLS handshakes that failed on client connections, by reason").labelNames("service", "listener", "reason")
                .callback(cb -> eachTls(current.get(), (service, listener, tls) -> {
                    for (ServerTls.HandshakeFailure reason : ServerTls.HandshakeFailure.values()) {
                        cb.call(tls.handshakesFailed(reason), service, listener, reason.label());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("river_tls_certificate_expiry_timestamp_seconds").unit(Unit.SECONDS)
                .help("When each served certificate expires (seconds since the epoch), by DNS name")
                .labelNames("service", "listener", "name")
                .callback(cb -> eachTls(current.get(), (service, listener, tls) ->
                        tls.expiryByName().forEach((name, notAfter) -> cb.call(notAfter, service, listener, name))))
                .register(registry);
        GaugeWithCallback.builder().name("river_config_generation")
                .help("The configuration generation serving new connections (1 at start, +1 per reload that took effect)")
                .callback(cb -> cb.call(current.get().number())).register(registry);
        WasmMetrics.register(registry, current);
    }

    private interface PeerVisitor {
        void visit(String service, UpstreamGroup group, Peer peer, PeerHealth health);
    }

    private interface TlsVisitor {
        void visit(String service, String listener, ServerTls tls);
    }

    private static void eachPeer(Generation generation, PeerVisitor visitor) {
        for (ServiceGeneration s : generation.services()) {
            if (s.wiring() == null) {
                continue;
            }
            for (UpstreamGroup group : s.wiring().groups()) {
                for (Peer peer : group.peers()) {
                    PeerHealth health = group.health(peer);
                    if (health != null) {
                        visitor.visit(s.name(), group, peer, health);
                    }
                }
            }
        }
    }

    private static void eachTls(Generation generation, TlsVisitor visitor) {
        for (ServiceGeneration s : generation.services()) {
            for (ServiceGeneration.ListenerPlan plan : s.listenerPlans().values()) {
                if (plan.tls() != null) {
                    visitor.visit(s.name(), plan.listener().address().toString(), plan.tls());
                }
            }
        }
    }

    private static String port(Peer peer) {
        return Integer.toString(peer.address().getPort());
    }

    /** 0 HTTP/1.x, 1 HTTP/2, 2 anything else (handshake, detection, tunnel). */
    private static int protocol(Channel ch) {
        if (ch.pipeline().get(Http2FrameCodec.class) != null) {
            return 1;
        }
        return ch.pipeline().get(io.netty.handler.codec.http.HttpResponseEncoder.class) != null ? 0 : 2;
    }
}
