package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A failure on a client's HTTP/2 stream resets the stream and is counted, not dropped without a trace. */
class Http2StreamFailureTest {
    @Test
    void anExceptionOnAStreamIsCountedAndClosesTheStream() {
        EmbeddedChannel stream = new EmbeddedChannel(new Http2StreamHandler(null, null, false));
        long before = Http2StreamHandler.FAILURES.sum();

        stream.pipeline().fireExceptionCaught(new IOException("stream broke"));

        assertThat(Http2StreamHandler.FAILURES.sum()).isEqualTo(before + 1);
        assertThat(stream.isOpen()).isFalse();
    }
}
