package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Coverage-guided fuzzing (Jazzer) of the chunked request-body decoder, behind a fixed chunked POST
 * head on River's HTTP/1 pipeline. Besides the common invariants (no exception, no leak), a body the
 * decoder accepts as complete must be one that RFC 9112 §7.1 accepts, with exactly the same bytes: a
 * decoder more lenient than the origin behind River is how requests are smuggled. Regression inputs:
 * {@code ChunkedBodyFuzzTestInputs/}.
 */
class ChunkedBodyFuzzTest {
    private static final byte[] HEAD = "POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    @FuzzTest(maxDuration = "5s")
    void aBodyAcceptedAsCompleteIsAValidChunkedBody(byte[] body) {
        byte[] input = new byte[HEAD.length + body.length];
        System.arraycopy(HEAD, 0, input, 0, HEAD.length);
        System.arraycopy(body, 0, input, HEAD.length, body.length);
        BodyRecorder recorder = new BodyRecorder();
        Http1Fuzzing.runWatched(List.of(input), recorder);
        if (recorder.complete) {
            byte[] expected = ChunkedReference.decode(body);
            assertThat(expected).as("RFC 9112 accepts the body River's decoder accepted").isNotNull();
            assertThat(recorder.data.toByteArray()).as("the body's bytes").isEqualTo(expected);
        }
    }

    /** Collects the body the decoder hands on, and whether it ended cleanly. */
    private static final class BodyRecorder extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        boolean complete;
        boolean failed;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpContent content && !complete && !failed) {
                if (content.decoderResult().isFailure()) {
                    failed = true;
                } else {
                    data.writeBytes(ByteBufUtil.getBytes(content.content()));
                    complete = content instanceof LastHttpContent;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** A strict chunked-body parser written from RFC 9112 §7.1, the reference River's decoder is held to. */
    static final class ChunkedReference {
        private final byte[] b;
        private int pos;

        private ChunkedReference(byte[] b) {
            this.b = b;
        }

        /** The body's data when {@code b} starts with a complete, valid chunked body; null otherwise. */
        static byte[] decode(byte[] b) {
            return new ChunkedReference(b).body();
        }

        private byte[] body() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String line = line();
                if (line == null) {
                    return null;
                }
                long size = chunkSize(line);
                if (size < 0) {
                    return null;
                }
                if (size == 0) {
                    return trailers() ? out.toByteArray() : null;
                }
                if (b.length - pos < size + 2 || b[pos + (int) size] != '\r' || b[pos + (int) size + 1] != '\n') {
                    return null;
                }
                out.write(b, pos, (int) size);
                pos += (int) size + 2;
            }
        }

        /**
         * The next line without its CRLF; null if there is none or it ends in a bare LF. A bare CR stays
         * in the line, for the caller to refuse (or, at a continuation's ends, to trim as Netty does).
         */
        private String line() {
            for (int i = pos; i < b.length; i++) {
                if (b[i] == '\n') {
                    if (i == pos || b[i - 1] != '\r') {
                        return null;
                    }
                    String line = new String(b, pos, i - 1 - pos, StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return line;
                }
            }
            return null;
        }

        /** chunk-size [ chunk-ext ]: 1*HEXDIG, then BWS ";" extensions free of control characters. */
        private static long chunkSize(String line) {
            int i = 0;
            long size = 0;
            while (i < line.length() && Character.digit(line.charAt(i), 16) >= 0 && line.charAt(i) < 0x80) {
                size = size * 16 + Character.digit(line.charAt(i), 16);
                if (size > Integer.MAX_VALUE) {
                    return -1;
                }
                i++;
            }
            if (i == 0) {
                return -1;
            }
            while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
                i++;
            }
            if (i < line.length() && line.charAt(i) != ';') {
                return -1;
            }
            for (; i < line.length(); i++) {
                char c = line.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return -1;
                }
            }
            return size;
        }

        /**
         * trailer-section CRLF: field lines (a token, a colon, a clean value), then an empty line. A line
         * that starts with SP or HTAB continues the field before it (obs-fold, which RFC 9112 §5.2 lets
         * a recipient replace with spaces).
         */
        private boolean trailers() {
            boolean field = false;
            while (true) {
                String line = line();
                if (line == null) {
                    return false;
                }
                if (line.isEmpty()) {
                    return true;
                }
                if (field && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                    // Netty trims a continuation line of everything up to SP at both ends, NUL included,
                    // which RFC 9110 §5.5 allows (a NUL may be replaced with SP): only the inside must be clean.
                    if (!clean(line.trim(), 0)) {
                        return false;
                    }
                    continue;
                }
                field = true;
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    return false;
                }
                for (int i = 0; i < colon; i++) {
                    char c = line.charAt(i);
                    boolean token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
                    if (!token) {
                        return false;
                    }
                }
                if (!clean(line, colon + 1)) {
                    return false;
                }
            }
        }

        /** Whether a field value from {@code from} on is free of control characters but HTAB. */
        private static boolean clean(String line, int from) {
            for (int i = from; i < line.length(); i++) {
                char c = line.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return false;
                }
            }
            return true;
        }
    }
}
