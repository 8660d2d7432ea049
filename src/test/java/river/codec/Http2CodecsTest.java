package river.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.StreamByteDistributor;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/** River's HTTP/2 codecs: the side asked for, and the uniform distributor behind the remote flow controller. */
class Http2CodecsTest {
    @Test
    void theServerCodecIsAServerWithTheUniformDistributor() throws Exception {
        Http2FrameCodec codec = Http2Codecs.forServer().build();
        assertThat(codec.connection().isServer()).isTrue();
        assertThat(distributor(codec)).isInstanceOf(UniformStreamByteDistributor.class);
    }

    @Test
    void theClientCodecIsAClientWithTheUniformDistributor() throws Exception {
        Http2FrameCodec codec = Http2Codecs.forClient().build();
        assertThat(codec.connection().isServer()).isFalse();
        assertThat(distributor(codec)).isInstanceOf(UniformStreamByteDistributor.class);
    }

    @Test
    void nettysOwnBuilderWouldGiveTheWeightedDistributor() throws Exception {
        // Shows the reflective read sees what it claims to: the default is not the uniform one.
        assertThat(distributor(Http2FrameCodecBuilder.forServer().build())).isNotInstanceOf(UniformStreamByteDistributor.class);
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
