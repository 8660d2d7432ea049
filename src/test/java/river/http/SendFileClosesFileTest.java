package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import river.proxy.Downstream;

/**
 * {@code Downstream.sendFile} closes the file on its error paths too, for each client side that
 * serves files: HTTP/1.x in clear (zero-copy) and HTTP/1.x through TLS (chunks). An HTTP/2 stream's
 * files are checked through the network in {@code FileDescriptorsTest}.
 */
class SendFileClosesFileTest {
    @TempDir
    Path dir;

    enum Side {
        HTTP1_CLEAR, HTTP1_TLS;

        ExchangeDownstream handler() {
            return switch (this) {
                case HTTP1_CLEAR -> new Http1Connection(null, new Http1Settings(10_000, 10_000, 8192, 8192), false);
                case HTTP1_TLS -> new Http1Connection(null, new Http1Settings(10_000, 10_000, 8192, 8192), true);
            };
        }
    }

    private FileChannel openFile() throws Exception {
        Path file = dir.resolve("page.html");
        Files.write(file, new byte[4096]);
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aFileSentToAConnectionAlreadyClosedIsClosed(Side side) throws Exception {
        ExchangeDownstream downstream = side.handler();
        EmbeddedChannel channel = new EmbeddedChannel(downstream);
        channel.close();
        FileChannel file = openFile();

        ((Downstream) downstream).sendFile(file, 0, 4096);

        assertThat(file.isOpen()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aFileWhoseBodyCannotBeBuiltIsClosedAndTheResponseAborted(Side side) throws Exception {
        ExchangeDownstream downstream = side.handler();
        EmbeddedChannel channel = new EmbeddedChannel(downstream);
        FileChannel file = openFile();

        ((Downstream) downstream).sendFile(file, -1, 4096);

        assertThat(file.isOpen()).isFalse();
        assertThat(channel.isOpen()).as("the response cannot be completed").isFalse();
        channel.finishAndReleaseAll();
    }
}
