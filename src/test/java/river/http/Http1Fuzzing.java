package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import river.testsupport.LeakRecorder;
import river.testsupport.LoggedFailures;
import river.testsupport.TrackingAllocator;

/**
 * River's HTTP/1 client pipeline on an embedded channel for the fuzz targets: feeds it bytes in
 * pieces, then checks what must hold whatever the bytes were. Every request the engine saw is well
 * formed, nothing the connection handler did ended in an exception it merely logged, every buffer
 * allocated was released, and Netty's leak detector (PARANOID in test JVMs) reported nothing.
 */
final class Http1Fuzzing {
    /** Small limits so that inputs of a few kilobytes reach the 414 and 431 paths. */
    static final Http1Settings SETTINGS = new Http1Settings(60_000, 60_000, 512, 2048);
    private static final LoggedFailures CONNECTION_LOG = LoggedFailures.of(Http1Connection.class.getName());

    private Http1Fuzzing() {}

    /** One connection: the listener's front handlers (may be none), then River's HTTP/1 pipeline. */
    static Outcome run(List<byte[]> pieces, ChannelHandler... front) {
        return runWatched(pieces, null, front);
    }

    /** As above, with {@code behindDecoder} (null for none) seeing what the decoder produces. */
    static Outcome runWatched(List<byte[]> pieces, ChannelHandler behindDecoder, ChannelHandler... front) {
        CONNECTION_LOG.drain();
        AnsweringEngine answering = new AnsweringEngine();
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(false, false);
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(front);
        channel.pipeline().addLast(new Http1ServerInitializer(answering.engine, SETTINGS, false));
        try {
            channel.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        if (behindDecoder != null) {
            channel.pipeline().addAfter("decoder", "behind-decoder", behindDecoder);
        }
        StringBuilder written = new StringBuilder();
        try {
            for (byte[] piece : pieces) {
                if (!channel.isOpen()) {
                    break;
                }
                ByteBuf in = alloc.buffer(piece.length).writeBytes(piece);
                channel.writeInbound(in);
                channel.runPendingTasks();
                drainOutbound(channel, written);
            }
            channel.checkException();
        } finally {
            channel.finishAndReleaseAll();
        }
        drainOutbound(channel, written);
        alloc.assertAllReleased();
        for (LoggedFailures.Line line : CONNECTION_LOG.drain()) {
            assertThat(line.message()).as("the connection handler only logs what it rejects on purpose").doesNotContain("failed");
        }
        List<String> leaks = LeakRecorder.drain();
        assertThat(leaks).as("Netty's leak detector").isEmpty();
        for (AnsweringEngine.Forwarded f : answering.forwarded) {
            assertWellFormed(f.request());
        }
        return new Outcome(answering.forwarded, written.toString(), channel.isOpen());
    }

    /** What the connection did with the bytes: the requests it forwarded and what it wrote back. */
    record Outcome(List<AnsweringEngine.Forwarded> forwarded, String written, boolean open) {}

    private static void drainOutbound(EmbeddedChannel channel, StringBuilder written) {
        Object out;
        while ((out = channel.readOutbound()) != null) {
            if (out instanceof ByteBuf b) {
                written.append(b.toString(StandardCharsets.ISO_8859_1));
            }
            ReferenceCountUtil.release(out);
        }
    }

    /**
     * A request the engine may see, checked from scratch rather than by River's own code: an HTTP/1.0
     * or 1.1 head whose method is a token, whose target has no space or control character, whose
     * fields are tokens with clean values, and whose body framing is unambiguous.
     */
    static void assertWellFormed(HttpRequest request) {
        assertThat(request.decoderResult().isSuccess()).as("decoded without error").isTrue();
        assertThat(request.protocolVersion()).isIn(HttpVersion.HTTP_1_0, HttpVersion.HTTP_1_1);
        assertThat(isToken(request.method().name())).as("method %s is a token", request.method()).isTrue();
        String uri = request.uri();
        assertThat(uri).isNotEmpty();
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            assertThat(c > 0x20 && c != 0x7f).as("request target %s has no space or control", uri).isTrue();
        }
        HttpHeaders headers = request.headers();
        for (Map.Entry<String, String> h : headers) {
            assertThat(isToken(h.getKey())).as("field name %s is a token", h.getKey()).isTrue();
            for (int i = 0; i < h.getValue().length(); i++) {
                char c = h.getValue().charAt(i);
                assertThat(c != '\r' && c != '\n' && c != 0).as("field %s has no CR, LF or NUL", h.getKey()).isTrue();
            }
        }
        List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        List<String> cl = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(te.size() + cl.size()).as("at most one body framing header").isLessThanOrEqualTo(1);
        if (!te.isEmpty()) {
            assertThat(te.get(0)).isEqualToIgnoringCase("chunked");
            assertThat(request.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        }
        if (!cl.isEmpty()) {
            assertThat(cl.get(0)).matches("[0-9]{1,18}");
        }
        List<String> host = headers.getAll(HttpHeaderNames.HOST);
        assertThat(host.size()).as("Host fields").isLessThanOrEqualTo(1);
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            assertThat(host).as("an HTTP/1.1 request has a Host").hasSize(1);
        }
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
