package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Coverage-guided fuzzing (Jazzer) of the PROXY protocol v1/v2 parser: Netty's decoder and River's
 * {@link ClientAddress.ProxyHeaderReader} in front of the HTTP/1 pipeline, as a listener with
 * {@code proxy-protocol=true} sets them up. Whatever the header, no exception escapes, no buffer
 * leaks, and a request that is forwarded names a client with a real address and port (or none);
 * what follows the header is held to the HTTP/1 invariants. Regression inputs:
 * {@code ProxyProtocolFuzzTestInputs/}.
 */
class ProxyProtocolFuzzTest {
    @FuzzTest(maxDuration = "5s")
    void anyProxyHeaderNamesARealClientOrClosesTheConnection(byte[] input) {
        Http1Fuzzing.Outcome outcome = Http1Fuzzing.run(List.of(input), new HAProxyMessageDecoder(), new ClientAddress.ProxyHeaderReader());
        for (AnsweringEngine.Forwarded f : outcome.forwarded()) {
            InetSocketAddress client = f.client();
            if (client != null) {
                assertThat(client.isUnresolved()).as("client %s is an address", client).isFalse();
                assertThat(client.getPort()).isBetween(0, 65535);
            }
        }
        StrictRequestDecoderFuzzTest.assertAnswersAreDocumented(outcome.written());
    }
}
