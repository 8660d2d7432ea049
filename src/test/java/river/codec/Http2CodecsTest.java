package river.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.StreamByteDistributor;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/** River's HTTP/2 codecs: the side asked for, and the weighted fair-queue distributor behind the remote flow controller, named on purpose. */
class Http2CodecsTest {
    @Test
    void theServerCodecIsAServerWithTheWeightedDistributor() throws Exception {
        Http2FrameCodec codec = Http2Codecs.forServer().build();
        assertThat(codec.connection().isServer()).isTrue();
        assertThat(distributor(codec)).isInstanceOf(WeightedFairQueueByteDistributor.class);
    }

    @Test
    void theClientCodecIsAClientWithTheWeightedDistributor() throws Exception {
        Http2FrameCodec codec = Http2Codecs.forClient().build();
        assertThat(codec.connection().isServer()).isFalse();
        assertThat(distributor(codec)).isInstanceOf(WeightedFairQueueByteDistributor.class);
    }

    @Test
    void theReflectiveReadSeesADifferentDistributor() throws Exception {
        // Shows the reflective read sees what it claims to.
        Http2Connection connection = new DefaultHttp2Connection(true);
        connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
        assertThat(distributor(new Http2FrameCodecBuilder() {
            {
                connection(connection);
            }
        }.build())).isInstanceOf(UniformStreamByteDistributor.class);
    }

    private static StreamByteDistributor distributor(Http2FrameCodec codec) throws ReflectiveOperationException {
        DefaultHttp2RemoteFlowController controller = (DefaultHttp2RemoteFlowController) codec.encoder().flowController();
        for (Field f : DefaultHttp2RemoteFlowController.class.getDeclaredFields()) {
            if (StreamByteDistributor.class.isAssignableFrom(f.getType())) {
                f.setAccessible(true);
                return (StreamByteDistributor) f.get(controller);
            }
        }
        throw new AssertionError("no StreamByteDistributor field in DefaultHttp2RemoteFlowController");
    }
}
