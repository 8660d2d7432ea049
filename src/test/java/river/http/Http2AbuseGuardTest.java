package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-connection budgets: the frame over budget ends the connection, a new window starts afresh, responses earn room. */
class Http2AbuseGuardTest {
    private final MockTicker ticker = Ticker.newMockTicker();
    private EmbeddedChannel channel;

    private void connect() {
        channel = new EmbeddedChannel();
        Http2AbuseGuard guard = new Http2AbuseGuard(Http2AbuseGuard.Budgets.defaults(), ticker);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer().frameLogger(guard).build();
        LingeringClose linger = new LingeringClose();
        guard.watch(codec, new GoAwayLastStream(), linger);
        channel.pipeline().addLast(linger);
        channel.pipeline().addLast(codec);
        ByteBuf preface = Unpooled.buffer().writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        frame(preface, 0x4, 0, Unpooled.EMPTY_BUFFER);
        channel.writeInbound(preface);
    }

    @AfterEach
    void release() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static void frame(ByteBuf out, int type, int stream, ByteBuf payload) {
        out.writeMedium(payload.readableBytes()).writeByte(type).writeByte(0).writeInt(stream).writeBytes(payload);
        payload.release();
    }

    private void pings(int count) {
        ByteBuf b = Unpooled.buffer();
        for (int i = 0; i < count; i++) {
            frame(b, 0x6, 0, Unpooled.buffer().writeLong(i));
        }
        channel.writeInbound(b);
        channel.runPendingTasks();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void theControlFrameOverBudgetClosesTheConnection() {
        connect();
        long before = Http2AbuseGuard.TRIPPED.sum();
        pings(99); // the empty SETTINGS of the preface was the first control frame
        assertThat(channel.isOpen()).isTrue();
        pings(2);
        assertThat(channel.isOpen()).isFalse();
        assertThat(Http2AbuseGuard.TRIPPED.sum()).isEqualTo(before + 1);
    }

    @Test
    void aNewWindowStartsWithTheWholeBudget() {
        connect();
        pings(99);
        ticker.advance(10, TimeUnit.SECONDS);
        pings(100);
        assertThat(channel.isOpen()).isTrue();
        pings(1);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void responsesEarnRoom() {
        Http2AbuseGuard.Budget budget = new Http2AbuseGuard.Budget(10, 0.5);
        assertThat(budget.exceededBy(10, 0)).isFalse();
        assertThat(budget.exceededBy(11, 0)).isTrue();
        assertThat(budget.exceededBy(11, 2)).isFalse();
        assertThat(budget.exceededBy(12, 2)).isTrue();
    }
}
