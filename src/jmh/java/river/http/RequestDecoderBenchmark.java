package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding one request head from a pooled direct buffer, as a client connection's read does: Netty's
 * parser alone (River's decoder before the scanner) against River's decoder with its plain-head
 * scanner, on a browser's head of 12 fields and on curl's /hello. Run with {@code -prof gc} for B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RequestDecoderBenchmark {
    @Param({"browser", "curl"})
    public String request;

    @Param({"netty", "scanner"})
    public String decoder;

    private EmbeddedChannel channel;
    private StrictRequestDecoder codec;
    private ChannelHandlerContext ctx;
    private byte[] bytes;
    private ByteBuf head;
    private final java.util.List<Object> out = new java.util.ArrayList<>();

    @Setup
    public void setUp(Blackhole blackhole) {
        bytes = (request.equals("browser") ? RequestHeadScannerTest.BROWSER : RequestHeadScannerTest.CURL).getBytes(StandardCharsets.ISO_8859_1);
        codec = new StrictRequestDecoder(() -> {}, 8192, 16384, decoder.equals("scanner"));
        channel = new EmbeddedChannel(codec,
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        // What the connection handler reads of every request before it forwards it.
                        if (msg instanceof HttpRequest r) {
                            blackhole.consume(r.uri());
                            blackhole.consume(RequestFraming.violation(r));
                        }
                        ReferenceCountUtil.release(msg);
                    }
                });
        ctx = channel.pipeline().context(codec);
        head = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        head.release();
    }

    /**
     * The decoding alone: one head from a buffer that is rewound rather than allocated, straight into
     * the decoder's decode step, then the framing checks every request passes.
     */
    @Benchmark
    public Object decodeOnly() throws Exception {
        head.setIndex(0, bytes.length);
        codec.decode(ctx, head, out);
        Object request = out.get(0);
        String violation = RequestFraming.violation((HttpRequest) request);
        for (int i = 0; i < out.size(); i++) {
            ReferenceCountUtil.release(out.get(i));
        }
        out.clear();
        return violation == null ? request : violation;
    }

    /** The buffer alone, written and released: the part of {@link #decode} that is not decoding. */
    @Benchmark
    public void bufferOnly() {
        ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        in.writeBytes(bytes);
        in.release();
    }

    @Benchmark
    public void decode() throws Exception {
        ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        in.writeBytes(bytes);
        // Straight into the decoder, as the event loop's read does: no embedded-channel bookkeeping.
        codec.channelRead(ctx, in);
        codec.channelReadComplete(ctx);
    }
}
