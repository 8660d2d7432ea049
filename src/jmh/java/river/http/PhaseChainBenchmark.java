package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import river.config.CidrRange;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import river.modules.filters.PathControlModule;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * One request through the client-side codec and the phase chain, answered by a module: decoding,
 * strict checks, phases, encoding. {@code filters=river-example} adds the path-control filters of
 * River's example configuration in front of the answering module.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PhaseChainBenchmark {
    @Param({"none", "river-example"})
    public String filters;

    private EmbeddedChannel channel;
    private byte[] request;

    /** Answers every request with a fixed 12-byte body, as the benchmark's origin does. */
    public static final class Hello implements ProxyModule {
        private static final byte[] BODY = "Hello world\n".getBytes(StandardCharsets.US_ASCII);

        @Override
        public CompletionStage<Verdict> onRequest(RequestContext ctx) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
            return CompletableFuture.completedFuture(new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(BODY))));
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        List<ProxyModule> modules = new ArrayList<>();
        if (filters.equals("river-example")) {
            modules.add(new PathControlModule(new PathControlConfig(
                    List.of(new FilterConfig.BlockCidrRange(List.of(CidrRange.parse("192.168.0.0/16"), CidrRange.parse("10.0.0.0/8"),
                            CidrRange.parse("2001:0db8::0/32")))),
                    List.of(new FilterConfig.RemoveHeaderKeyRegex(Pattern.compile(".*(secret|SECRET).*", Pattern.CASE_INSENSITIVE)),
                            new FilterConfig.UpsertHeader("x-proxy-friend", "river")),
                    List.of(new FilterConfig.RemoveHeaderKeyRegex(Pattern.compile(".*ETag.*", Pattern.CASE_INSENSITIVE)),
                            new FilterConfig.UpsertHeader("x-with-love-from", "river")))));
        }
        modules.add(new Hello());
        ProxyEngine engine = new ProxyEngine("bench", modules, null, null, new EngineSettings(60_000, 60_000, 300_000));
        channel = new ClientChannel(new Http1ServerInitializer(engine, new Http1Settings(10_000, 60_000, 8192, 16384), false));
        request = ("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** An in-memory channel whose peer looks like a real client address. */
    public static final class ClientChannel extends EmbeddedChannel {
        public ClientChannel(io.netty.channel.ChannelHandler handler) {
            super(handler);
        }

        @Override
        protected java.net.SocketAddress remoteAddress0() {
            return new java.net.InetSocketAddress("203.0.113.7", 51234);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int requestThroughPhases() {
        return exchange(channel, request);
    }

    /** Writes one request into {@code channel} and releases what it answers: the answer's bytes. */
    public static int exchange(EmbeddedChannel channel, byte[] request) {
        channel.writeInbound(Unpooled.wrappedBuffer(request));
        int bytes = 0;
        Object out;
        while ((out = channel.readOutbound()) != null) {
            if (out instanceof ByteBuf buf) {
                bytes += buf.readableBytes();
                buf.release();
            }
        }
        return bytes;
    }
}
