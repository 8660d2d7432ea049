package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * A client's HTTP/2 streams through {@link Http2Pipeline} as River builds it, on an embedded channel fed
 * raw frames: what RFC 9113 §8.1 and §8.3.1 call malformed is reset with PROTOCOL_ERROR before it
 * reaches the engine or Netty's conversion to HTTP/1 (a CONNECT whose :authority has a space, trailers
 * with pseudo-header fields, which Netty would take for a new request); a stream error the codec
 * raises is counted and resets that stream only.
 */
class Http2ServerStreamTest {
    /** Holds every request in its first phase, so the stream stays open for what the test sends next. */
    private final List<RequestContext> held = new ArrayList<>();
    /** An answer to give at once instead, when set. */
    private java.util.concurrent.Callable<Verdict> answerWith;
    private final ProxyEngine engine = new ProxyEngine("test", List.of(new ProxyModule() {
        @Override
        public CompletionStage<Verdict> onRequest(RequestContext ctx) {
            held.add(ctx);
            if (answerWith != null) {
                try {
                    return CompletableFuture.completedFuture(answerWith.call());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
            return new CompletableFuture<>();
        }
    }), null, null, new EngineSettings(60_000, 60_000, 60_000));
    private final EmbeddedChannel channel = EmbeddedChannel.builder().parent(new LocalServerChannel()).build();

    Http2ServerStreamTest() {
        Http2Pipeline.install(channel.pipeline(), engine, Http1Fuzzing.SETTINGS, false);
        ByteBuf preface = Unpooled.buffer().writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        frame(preface, 0x4, 0, 0, Unpooled.EMPTY_BUFFER);
        channel.writeInbound(preface);
        resets();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aConnectWhoseAuthorityHasASpaceIsRefused() {
        headers(1, new DefaultHttp2Headers().method("CONNECT").authority("[)?name%[ "), true);
        assertThat(resets()).containsExactly(List.<Object>of(1, Http2Error.PROTOCOL_ERROR.code()));
        assertThat(held).isEmpty();
    }

    @Test
    void trailersWithPseudoHeadersAreRefusedAndOrdinaryTrailersPass() {
        headers(1, post(), false);
        data(1, new byte[] {1, 2, 3}, false);
        headers(1, new DefaultHttp2Headers().add("checksum", "abc"), true);
        assertThat(resets()).isEmpty();

        headers(3, post(), false);
        headers(3, new DefaultHttp2Headers().method("GET").scheme("https").path("/a b"), true);
        assertThat(resets()).containsExactly(List.<Object>of(3, Http2Error.PROTOCOL_ERROR.code()));
        assertThat(held).hasSize(2);
    }

    @Test
    void aStreamErrorOfTheCodecIsCountedAndResetsOnlyThatStream() {
        long before = Http2ServerStream.FAILURES.sum();
        headers(1, post().setLong("content-length", 3), false);
        data(1, new byte[5], true); // more than it said: RFC 9113 §8.1.1, malformed
        assertThat(resets()).containsExactly(List.<Object>of(1, Http2Error.PROTOCOL_ERROR.code()));
        assertThat(Http2ServerStream.FAILURES.sum()).isEqualTo(before + 1);

        headers(3, new DefaultHttp2Headers().method("GET").scheme("https").path("/next"), true);
        assertThat(resets()).isEmpty();
        assertThat(channel.isOpen()).isTrue();
        assertThat(held).hasSize(2);
    }

    /**
     * A client may grant a window of 2^31-1 bytes; what River has written for a stream and not yet got
     * onto the wire stays under a stream's bound all the same, and the body goes on once the socket
     * drains. The socket is a handler at the pipeline's head that holds every write until told.
     */
    @Test
    void whatAStreamHasInFlightIsBoundedWhateverWindowTheClientGrants(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path big = dir.resolve("big.bin");
        java.nio.file.Files.write(big, new byte[8 << 20]);
        StalledSocket socket = new StalledSocket();
        channel.pipeline().addFirst(socket);
        answerWith = () -> {
            java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(big);
            io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
                    io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.OK);
            head.headers().setInt("content-length", 8 << 20);
            return new Verdict.Respond(head, new Verdict.Body.FileRange(file, 0, 8 << 20));
        };
        ByteBuf settings = Unpooled.buffer();
        frame(settings, 0x4, 0, 0, Unpooled.buffer().writeShort(0x4).writeInt(Integer.MAX_VALUE));
        frame(settings, 0x8, 0, 0, Unpooled.buffer().writeInt(Integer.MAX_VALUE - 65_535));
        channel.writeInbound(settings);
        headers(1, new DefaultHttp2Headers().method("GET").scheme("https").path("/big.bin").authority("example.test"), true);

        assertThat(socket.heldBytes()).as("bytes written for the stream and held by the socket").isBetween(1L, 256L << 10);
        socket.release();
        channel.runPendingTasks();
        assertThat(socket.heldBytes()).as("once the socket drained, the body went on, as bounded").isBetween(1L, 256L << 10);
        socket.stalled = false;
        socket.release();
        for (int i = 0; i < 1000 && socket.released < 8 << 20; i++) {
            channel.runPendingTasks();
            socket.release();
        }
        assertThat(socket.released).as("the whole body, once the socket takes it").isGreaterThan(8 << 20);
    }

    /** A socket that takes nothing while stalled: writes wait here, their promises unfinished. */
    private static final class StalledSocket extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private final java.util.ArrayDeque<Object> writes = new java.util.ArrayDeque<>();
        private final java.util.ArrayDeque<io.netty.channel.ChannelPromise> promises = new java.util.ArrayDeque<>();
        private io.netty.channel.ChannelHandlerContext ctx;
        boolean stalled = true;
        long released;

        @Override
        public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (stalled) {
                writes.add(msg);
                promises.add(promise);
            } else {
                released += msg instanceof ByteBuf b ? b.readableBytes() : 0;
                ctx.write(msg, promise);
            }
        }

        long heldBytes() {
            long n = 0;
            for (Object o : writes) {
                n += o instanceof ByteBuf b ? b.readableBytes() : 0;
            }
            return n;
        }

        /** Lets what it holds go (the socket drained). */
        void release() {
            while (!writes.isEmpty()) {
                Object msg = writes.poll();
                released += msg instanceof ByteBuf b ? b.readableBytes() : 0;
                ctx.write(msg, promises.poll());
            }
            ctx.flush();
        }
    }

    private static Http2Headers post() {
        return new DefaultHttp2Headers().method("POST").scheme("https").path("/up").authority("example.test");
    }

    private void headers(int stream, Http2Headers headers, boolean end) {
        ByteBuf block = Unpooled.buffer();
        try {
            new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, false).encodeHeaders(stream, headers, block);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        ByteBuf out = Unpooled.buffer();
        frame(out, 0x1, 0x4 | (end ? 0x1 : 0), stream, block);
        block.release();
        channel.writeInbound(out);
        channel.runPendingTasks();
    }

    private void data(int stream, byte[] payload, boolean end) {
        ByteBuf out = Unpooled.buffer();
        frame(out, 0x0, end ? 0x1 : 0, stream, Unpooled.wrappedBuffer(payload));
        channel.writeInbound(out);
        channel.runPendingTasks();
    }

    private static void frame(ByteBuf out, int type, int flags, int stream, ByteBuf payload) {
        out.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    }

    /** The RST_STREAM frames River wrote since the last look, as (stream, error code). */
    private List<List<Object>> resets() {
        List<List<Object>> found = new ArrayList<>();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            if (out instanceof ByteBuf bytes) {
                while (bytes.readableBytes() >= 9) {
                    int length = bytes.readUnsignedMedium();
                    int type = bytes.readByte();
                    bytes.readByte();
                    int stream = bytes.readInt() & 0x7fffffff;
                    if (type == 0x3) {
                        found.add(List.of(stream, bytes.getUnsignedInt(bytes.readerIndex())));
                    }
                    bytes.skipBytes(Math.min(length, bytes.readableBytes()));
                }
            }
            ReferenceCountUtil.release(out);
        }
        return found;
    }
}
