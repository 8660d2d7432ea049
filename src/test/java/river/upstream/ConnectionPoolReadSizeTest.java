package river.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * How much an upstream connection reads at a time: the guess grows while reads fill it, up to 128 KiB,
 * so a 64 KiB body and its head take one read instead of two and a third that finds nothing.
 */
class ConnectionPoolReadSizeTest {
    @Test
    void fullReadsGrowTheReadTo128KiBAndNoFurther() {
        EmbeddedChannel channel = new EmbeddedChannel();
        RecvByteBufAllocator.Handle handle = ConnectionPool.upstreamReadAllocator().newHandle();
        int largest = 0;
        for (int read = 0; read < 64; read++) { // bounded: the guess doubles (or more) per full read
            handle.reset(channel.config());
            int guess = handle.guess();
            largest = Math.max(largest, guess);
            handle.lastBytesRead(guess); // the origin had at least that much
            handle.readComplete();
        }
        assertThat(largest).isEqualTo(128 * 1024);
        channel.finishAndReleaseAll();
    }
}
