package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Coverage-guided fuzzing (Jazzer) of the PROXY protocol v1/v2 parser: Netty's decoder and River's
 * {@link ClientAddress.ProxyHeaderReader} in front of the HTTP/1 pipeline, as a listener with
 * {@code proxy-protocol=true} sets them up. Whatever the header, no exception escapes and no buffer
 * leaks; a connection whose header Netty's decoder does not accept (judged on its own, on a second
 * channel) forwards nothing, and a request that is forwarded names a client with a real address and
 * port (or none); what follows the header is held to the HTTP/1 invariants. Regression inputs:
 * {@code ProxyProtocolFuzzTestInputs/}.
 */
class ProxyProtocolFuzzTest {
    @FuzzTest(maxDuration = "5s")
    void anyProxyHeaderNamesARealClientOrClosesTheConnection(byte[] input) {
        Http1Fuzzing.Outcome outcome = Http1Fuzzing.run(List.of(input), new HAProxyMessageDecoder(), new ClientAddress.ProxyHeaderReader());
        if (!headerAccepted(input)) {
            assertThat(outcome.forwarded()).as("requests forwarded behind a PROXY header that is not valid").isEmpty();
        }
        for (AnsweringEngine.Forwarded f : outcome.forwarded()) {
            InetSocketAddress client = f.client();
            if (client != null) {
                assertThat(client.isUnresolved()).as("client %s is an address", client).isFalse();
                assertThat(client.getPort()).isBetween(0, 65535);
            }
        }
        StrictRequestDecoderFuzzTest.assertAnswersAreDocumented(outcome.written());
    }

    /** Whether Netty's decoder, alone on a channel, decodes a header from the input's start. */
    private static boolean headerAccepted(byte[] input) {
        EmbeddedChannel alone = new EmbeddedChannel(new HAProxyMessageDecoder());
        boolean accepted = false;
        try {
            alone.writeInbound(Unpooled.wrappedBuffer(input));
            Object first = alone.readInbound();
            accepted = first instanceof HAProxyMessage;
            ReferenceCountUtil.release(first);
            alone.finishAndReleaseAll();
        } catch (DecoderException refused) {
            alone.releaseInbound();
            return false;
        }
        return accepted;
    }
}
