package river.service;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.balance.UpstreamGroup;
import river.config.ConnectorConfig;
import river.config.LoadBalanceConfig;
import river.config.ServiceHandler;
import river.upstream.Peer;
import river.upstream.UpstreamTls;

/**
 * Turns connectors blocks into upstream groups: the selection algorithm, the peers of literal
 * addresses, and how peers found later (by discovery) are made. One per service.
 */
final class UpstreamWiring {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamWiring.class);

    private final String service;
    /** TLS client contexts by CA file, verification and offered protocols: one per distinct combination. */
    private final Map<String, SslContext> clientContexts = new HashMap<>();

    UpstreamWiring(String service) {
        this.service = service;
    }

    static UpstreamGroup.Selection selection(LoadBalanceConfig.Selection s) {
        if (s instanceof LoadBalanceConfig.Selection.Random) {
            return UpstreamGroup.Selection.random();
        } else if (s instanceof LoadBalanceConfig.Selection.Fnv fnv) {
            return UpstreamGroup.Selection.fnv(key(fnv.key()));
        } else if (s instanceof LoadBalanceConfig.Selection.Ketama ketama) {
            return UpstreamGroup.Selection.ketama(key(ketama.key()));
        }
        return UpstreamGroup.Selection.roundRobin();
    }

    private static UpstreamGroup.KeyKind key(LoadBalanceConfig.HashKey key) {
        return key == LoadBalanceConfig.HashKey.URI_PATH ? UpstreamGroup.KeyKind.URI_PATH : UpstreamGroup.KeyKind.SOURCE_ADDR_AND_URI_PATH;
    }

    /** A group over the block's literal addresses (discovered servers join it later). */
    UpstreamGroup group(String name, ServiceHandler.Proxy proxy) throws IOException {
        boolean checked = !(proxy.loadBalance().healthCheck() instanceof LoadBalanceConfig.HealthCheck.None);
        return new UpstreamGroup(name, selection(proxy.loadBalance().selection()), staticPeers(proxy.connectors()), checked);
    }

    /** The peers of the literal-address connectors, duplicates dropped (the first entry's settings win). */
    List<Peer> staticPeers(List<ConnectorConfig> connectors) throws IOException {
        Map<String, Peer> peers = new LinkedHashMap<>();
        for (ConnectorConfig c : connectors) {
            if (c.source() instanceof ConnectorConfig.Source.Address a) {
                byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(a.host());
                Peer p = peer(c, InetAddress.getByAddress(ip), a.port(), null, c.weight(), 0);
                peers.putIfAbsent(p.label(), p);
            }
        }
        return new ArrayList<>(peers.values());
    }

    /**
     * A peer found for connector {@code c}.
     *
     * @param discoveredName the name it was discovered under (SNI with {@code tls=true}), or null
     */
    Peer peer(ConnectorConfig c, InetAddress ip, int port, String discoveredName, int weight, int priority) throws IOException {
        UpstreamTls tls = null;
        if (c.tls()) {
            UpstreamTls.Offer offer = switch (c.proto()) {
                case H1_ONLY -> UpstreamTls.Offer.HTTP1_ONLY;
                case H2_ONLY -> UpstreamTls.Offer.HTTP2_ONLY;
                case H2_OR_H1 -> UpstreamTls.Offer.HTTP2_OR_HTTP1;
            };
            String sni = c.tlsSni().orElse(discoveredName);
            tls = new UpstreamTls(context(c, offer), context(c, UpstreamTls.Offer.HTTP1_ONLY), offer, sni, c.tlsVerify());
        }
        ConnectorConfig.Timeouts t = c.timeouts();
        return Peer.of(ip, port, weight, tls, priority, new Peer.PeerTimeouts(t.connectMs(), t.totalConnectMs(), t.readMs(), t.writeMs(), t.idleMs()));
    }

    private synchronized SslContext context(ConnectorConfig c, UpstreamTls.Offer offer) throws IOException {
        String key = c.caPath().map(Object::toString).orElse("") + "|" + c.tlsVerify() + "|" + offer;
        SslContext context = clientContexts.get(key);
        if (context == null) {
            context = UpstreamTls.clientContext(c.caPath().orElse(null), c.tlsVerify(), offer);
            clientContexts.put(key, context);
            if (!c.tlsVerify()) {
                LOG.warn("service {}: the certificates of {} are NOT verified (tls-verify=false)", service, c.address());
            }
        }
        return context;
    }
}
