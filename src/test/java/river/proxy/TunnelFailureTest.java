package river.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A failure on one side of a tunnel closes both sides and is counted, not dropped without a trace. */
class TunnelFailureTest {
    @Test
    void anExceptionOnOneSideIsCountedAndClosesBoth() {
        EmbeddedChannel upstream = new EmbeddedChannel();
        EmbeddedChannel client = new EmbeddedChannel(Tunnel.relayTo(upstream));
        long before = Tunnel.FAILURES.sum();

        client.pipeline().fireExceptionCaught(new IOException("client side broke"));

        assertThat(Tunnel.FAILURES.sum()).isEqualTo(before + 1);
        assertThat(client.isOpen()).isFalse();
        assertThat(upstream.isOpen()).isFalse();
    }
}
