package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.config.ConnectorConfig;
import river.config.UpstreamProto;
import river.discovery.PeerFactory;
import river.server.Transport;
import river.upstream.Peer;

/** What the wiring hands discovery: peers for found servers that cost no TLS context build on the event loop. */
class UpstreamWiringTest {
    @Test
    void serversFoundByDiscoveryShareTlsContextsBuiltAtWiringTime() throws Exception {
        Transport transport = Transport.best();
        EventLoopGroup loops = transport.newGroup(1, "wiring-test");
        try (UpstreamWiring wiring = new UpstreamWiring("svc", loops, transport, List.of())) {
            ConnectorConfig tls = new ConnectorConfig(new ConnectorConfig.Source.Dns("app.test.internal", 443), Optional.empty(), true,
                    UpstreamProto.H2_OR_H1, 1, Optional.empty(), true, ConnectorConfig.Timeouts.NONE, ConnectorConfig.Refresh.TTL, 0);

            PeerFactory factory = wiring.peerFactory(tls);
            int builtAtWiring = wiring.contextsBuilt();
            assertThat(builtAtWiring).as("the h2-or-h1 context and the HTTP/1.1 one").isEqualTo(2);

            // What each refresh does on the resolver's loop: no context is built there.
            Peer one = factory.peer(InetAddress.getByName("127.0.0.1"), 443, "app.test.internal", -1, 0);
            Peer two = factory.peer(InetAddress.getByName("127.0.0.2"), 443, "app.test.internal", 50, 0);
            assertThat(wiring.contextsBuilt()).isEqualTo(builtAtWiring);
            assertThat(two.tls().context()).isSameAs(one.tls().context());
            assertThat(one.tls().serverName()).isEqualTo("app.test.internal");
            assertThat(one.weight()).isEqualTo(1);
            assertThat(two.weight()).isEqualTo(50);
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
