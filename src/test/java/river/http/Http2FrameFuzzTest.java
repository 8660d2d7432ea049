package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.ReferenceCountUtil;
import river.testsupport.LeakRecorder;
import river.testsupport.LoggedFailures;
import river.testsupport.TrackingAllocator;

/**
 * Coverage-guided fuzzing (Jazzer) of the HTTP/2 frame path: after the client preface, a sequence of
 * frames the fuzzer builds (HEADERS with HPACK blocks of fuzzed fields, CONTINUATION, DATA, SETTINGS,
 * PING, RST_STREAM, WINDOW_UPDATE, GOAWAY, PRIORITY, PUSH_PROMISE, unknown types, raw bytes) goes
 * through Netty's frame codec into River's stream handlers, exactly as {@link Http2Pipeline} builds
 * them, on an embedded channel. No exception reaches the end of the connection's pipeline or is
 * swallowed by a stream's handler unless it is an HTTP/2 protocol error, every buffer is released,
 * and River never holds more than a bounded amount of memory for the connection. Regression inputs:
 * {@code Http2FrameFuzzTestInputs/}.
 */
class Http2FrameFuzzTest {
    /** What one connection may hold at once: windows are 64 KiB per stream and on the connection. */
    private static final long MAX_LIVE_BYTES = 4L << 20;
    private static final int[] STREAMS = {1, 3, 5, 7, 2, 0, 0x7fffffff};
    private static final LoggedFailures STREAM_LOG = LoggedFailures.of(Http2ServerStream.class.getName());

    @FuzzTest(maxDuration = "5s")
    void framesNeverEscapeAsExceptionsLeakOrGrowMemory(FuzzedDataProvider data) {
        STREAM_LOG.drain();
        AnsweringEngine answering = new AnsweringEngine();
        TrackingAllocator alloc = new TrackingAllocator();
        // A listening parent, as for a connection River accepted: without one, Netty's Http2MultiplexHandler
        // takes stream 1 for a client's upgrade stream and gives it no channel, so River's stream pipeline
        // never saw it (and an unknown frame on it was never released).
        EmbeddedChannel channel = EmbeddedChannel.builder().parent(new LocalServerChannel()).build();
        channel.config().setAllocator(alloc);
        Http2Pipeline.install(channel.pipeline(), answering.engine, Http1Fuzzing.SETTINGS, false);
        try {
            ByteBuf preface = alloc.buffer();
            preface.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
            frame(preface, 0x4, 0, 0, new byte[0]);
            feed(channel, preface, alloc);
            for (int n = 0; n < 200 && data.remainingBytes() > 0 && channel.isOpen(); n++) {
                ByteBuf out = alloc.buffer();
                nextFrame(data, out);
                feed(channel, out, alloc);
            }
            channel.checkException();
        } finally {
            channel.finishAndReleaseAll();
        }
        alloc.assertAllReleased();
        for (LoggedFailures.Line line : STREAM_LOG.drain()) {
            if (line.exception() != null) {
                // An HTTP/2 error, or one the HTTP/1 conversion raised as a decoder error around it.
                String http2 = Http2Exception.class.getPackageName() + ".Http2";
                String what = line.exception().startsWith(http2) ? line.exception() : String.valueOf(line.exceptionMessage());
                assertThat(what).as("a stream failed with %s: %s", line.exception(), line.exceptionMessage()).startsWith(http2);
            }
        }
        assertThat(LeakRecorder.drain()).as("Netty's leak detector").isEmpty();
    }

    private static void feed(EmbeddedChannel channel, ByteBuf bytes, TrackingAllocator alloc) {
        channel.writeInbound(bytes);
        channel.runPendingTasks();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(out);
        }
        assertThat(alloc.liveBytes()).as("bytes held for the connection").isLessThanOrEqualTo(MAX_LIVE_BYTES);
    }

    private static void nextFrame(FuzzedDataProvider data, ByteBuf out) {
        int stream = data.consumeBoolean() ? STREAMS[data.consumeInt(0, STREAMS.length - 1)] : data.consumeInt();
        switch (data.consumeInt(0, 11)) {
            case 0 -> frame(out, 0x1, flags(data, 0x4 | 0x1), stream, headerBlock(data));
            case 1 -> frame(out, 0x9, flags(data, 0x4), stream, headerBlock(data));
            case 2 -> frame(out, 0x0, flags(data, 0x1), stream, data.consumeBytes(data.consumeInt(0, 20_000)));
            case 3 -> frame(out, 0x3, 0, stream, intBytes(data.consumeInt(0, 14)));
            case 4 -> {
                ByteBuf settings = Unpooled.buffer();
                int count = data.consumeInt(0, 6);
                for (int i = 0; i < count; i++) {
                    settings.writeShort(data.consumeInt(1, 9)).writeInt(data.consumeInt());
                }
                frame(out, 0x4, data.consumeBoolean() ? 0x1 : 0, stream == 0 ? 0 : data.consumeInt(0, 1), bytes(settings));
            }
            case 5 -> frame(out, 0x6, data.consumeBoolean() ? 0x1 : 0, 0, data.consumeBytes(8));
            case 6 -> frame(out, 0x7, 0, 0, concat(intBytes(data.consumeInt()), intBytes(data.consumeInt(0, 14)), data.consumeBytes(16)));
            case 7 -> frame(out, 0x8, 0, stream, intBytes(data.consumeInt()));
            case 8 -> frame(out, 0x2, 0, stream, concat(intBytes(data.consumeInt()), data.consumeBytes(1)));
            case 9 -> frame(out, 0x5, flags(data, 0x4), stream, concat(intBytes(data.consumeInt(0, 20)), headerBlock(data)));
            case 10 -> frame(out, data.consumeInt(0, 255), data.consumeInt(0, 255), stream, data.consumeBytes(data.consumeInt(0, 64)));
            default -> out.writeBytes(data.consumeBytes(data.consumeInt(0, 64)));
        }
    }

    /** The usual flags, or (one time in four) any flags at all, PADDED and PRIORITY included. */
    private static int flags(FuzzedDataProvider data, int usual) {
        return data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 255) : usual;
    }

    /** An HPACK block: mostly a request's fields, valid or not, sometimes raw bytes. */
    private static byte[] headerBlock(FuzzedDataProvider data) {
        if (data.consumeInt(0, 7) == 0) {
            return data.consumeBytes(data.consumeInt(0, 64));
        }
        Http2Headers headers = new DefaultHttp2Headers(false);
        if (data.consumeBoolean()) {
            headers.method(pick(data, "GET", "POST", "CONNECT", "HEAD", "OPTIONS"));
        }
        if (data.consumeBoolean()) {
            headers.path(pick(data, "/", "/a?b", "*", ""));
        }
        if (data.consumeBoolean()) {
            headers.scheme(pick(data, "http", "https"));
        }
        if (data.consumeBoolean()) {
            headers.authority(pick(data, "example.test", "a:1", ""));
        }
        if (data.consumeInt(0, 3) == 0) {
            headers.add(Http2Headers.PseudoHeaderName.PROTOCOL.value(), pick(data, "websocket", "other"));
        }
        int fields = data.consumeInt(0, 6);
        for (int i = 0; i < fields; i++) {
            String name = data.consumeBoolean()
                    ? pick(data, "content-length", "te", "connection", "host", "cookie", "transfer-encoding", "x-http2-stream-id", ":status", "upgrade")
                    : data.consumeString(16);
            headers.add(name, data.consumeString(32));
        }
        ByteBuf block = Unpooled.buffer();
        try {
            new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true).encodeHeaders(1, headers, block);
            return bytes(block);
        } catch (Http2Exception | RuntimeException e) {
            block.release();
            return new byte[0]; // the test's own encoder refused these fields
        }
    }

    private static String pick(FuzzedDataProvider data, String... choices) {
        return data.consumeInt(0, 4) == 0 ? data.consumeString(12) : choices[data.consumeInt(0, choices.length - 1)];
    }

    private static void frame(ByteBuf out, int type, int flags, int stream, byte[] payload) {
        out.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuf b = Unpooled.buffer();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return bytes(b);
    }

}
