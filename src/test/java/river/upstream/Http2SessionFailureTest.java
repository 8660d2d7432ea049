package river.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A failure on an upstream HTTP/2 connection closes the session and is counted, not dropped without a trace. */
class Http2SessionFailureTest {
    @Test
    void anExceptionOnTheConnectionIsCountedAndClosesIt() {
        EmbeddedChannel connection = new EmbeddedChannel();
        Http2Session session = new Http2Session(connection, Peer.of("127.0.0.1", 9, 1), connection.eventLoop().newPromise());
        connection.pipeline().addLast(session.watcher());
        long before = Http2Session.FAILURES.sum();

        connection.pipeline().fireExceptionCaught(new IOException("connection broke"));

        assertThat(Http2Session.FAILURES.sum()).isEqualTo(before + 1);
        assertThat(connection.isOpen()).isFalse();
        assertThat(session.usable()).isFalse();
    }
}
