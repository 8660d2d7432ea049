package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * River's decoder with its plain-head scanner against Netty's parser alone, on the same bytes: every
 * input, whether read whole, in three pieces or a byte at a time, must come out as the same messages
 * (method, target, version, fields in order, body parts, decoder errors). The inputs are the shapes
 * River must refuse, the fuzz regression inputs, real heads, and some thousands of seeded mutations of them.
 */
class RequestHeadScannerTest {
    private static final int MAX_LINE = 512;
    private static final int MAX_HEADER = 2048;
    private static final byte[] INTERESTING = {'\r', '\n', ' ', '\t', 0, 0x0b, 0x0c, 0x7f, (byte) 0x80, (byte) 0xff, ':', 'a', '1', ','};

    static final String BROWSER = "GET /index.html?lang=en HTTP/1.1\r\n"
            + "Host: www.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: session=4f1c2a9b7e; theme=dark\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "Sec-Fetch-Dest: document\r\n"
            + "Sec-Fetch-Mode: navigate\r\n"
            + "Sec-Fetch-Site: none\r\n"
            + "Priority: u=0, i\r\n"
            + "\r\n";
    static final String CURL = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

    private static final List<String> SHAPES = List.of(
            BROWSER, CURL, CURL + CURL + BROWSER,
            "GET / HTTP/1.0\r\n\r\n",
            "HEAD /a HTTP/1.1\r\nhost: h\r\nX-Empty:\r\nX-Blank:   \r\nX-Tab:\tv\t \r\nX-Obs: caf\u00e9\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
            "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
            "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / http/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
            "GET / HTTP/9.9\r\nHost: h\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
            "get / HTTP/1.1\r\nHost: h\r\n\r\n",
            "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /caf\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n"
                    + "Upgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n12345678",
            "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
            "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: " + "v".repeat(MAX_HEADER) + "\r\n\r\n",
            "GET /" + "a".repeat(MAX_LINE) + " HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /" + "a".repeat(MAX_LINE - 15) + " HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /" + "a".repeat(MAX_LINE - 14) + " HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: " + "v".repeat(MAX_HEADER - 10) + "\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: " + "v".repeat(MAX_HEADER - 9) + "\r\n\r\n",
            // From StrictParsingTest: the shapes River refuses.
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\u000b\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\nHost: h\n\n",
            "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
            "GET / HTTP/1.1\rHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-A\u0000: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\u0000c\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\u0001c\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX-A: \u007fc\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
            "\u0000GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /\u0001 HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET\u0001 / HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / \u0001HTTP/1.1\r\nHost: h\r\n\r\n");

    @Test
    void everyInputDecodesAsNettyAloneDecodesIt() throws IOException {
        List<byte[]> inputs = new ArrayList<>();
        for (String s : SHAPES) {
            inputs.add(s.getBytes(StandardCharsets.ISO_8859_1));
        }
        inputs.addAll(fuzzInputs());
        int seeds = inputs.size();
        Random random = new Random(19);
        for (int i = 0; i < 6000; i++) {
            inputs.add(mutate(inputs.get(random.nextInt(seeds)), random));
        }
        for (byte[] input : inputs) {
            String shown = escaped(input);
            for (List<byte[]> pieces : List.of(List.of(input), thirds(input))) {
                assertThat(decode(pieces, true)).as("decoded with the scanner: %s", shown).isEqualTo(decode(pieces, false));
            }
        }
        for (String s : SHAPES) {
            byte[] input = s.getBytes(StandardCharsets.ISO_8859_1);
            List<byte[]> bytes = new ArrayList<>();
            for (byte b : input) {
                bytes.add(new byte[] {b});
            }
            assertThat(decode(bytes, true)).as("byte by byte: %s", s).isEqualTo(decode(bytes, false));
        }
    }

    @Test
    void plainHeadsAreScannedNotLeftToNetty() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(() -> {}, MAX_LINE, MAX_HEADER));
        channel.writeInbound(Unpooled.copiedBuffer(CURL + BROWSER, StandardCharsets.ISO_8859_1));
        HttpRequest curl = channel.readInbound();
        assertThat((Object) channel.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        HttpRequest browser = channel.readInbound();
        assertThat((Object) channel.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(curl.uri()).isEqualTo("/hello");
        assertThat(browser.headers().size()).isEqualTo(12);
        // Netty's parser makes a String of every value; the scanner views the head's bytes.
        for (Map.Entry<CharSequence, CharSequence> e : (Iterable<Map.Entry<CharSequence, CharSequence>>) () -> browser.headers().iteratorCharSequence()) {
            assertThat(e.getValue()).isInstanceOf(AsciiString.class);
        }
        assertThat(browser.headers().get("cookie")).isEqualTo("session=4f1c2a9b7e; theme=dark");
        assertThat(channel.finish()).isFalse();
    }

    private static List<byte[]> fuzzInputs() throws IOException {
        List<byte[]> inputs = new ArrayList<>();
        for (String dir : List.of("StrictRequestDecoderFuzzTestInputs", "ChunkedBodyFuzzTestInputs")) {
            Path root = Path.of("src/test/resources/river/http", dir);
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                    inputs.add(Files.readAllBytes(p));
                }
            }
        }
        assertThat(inputs).as("fuzz regression inputs").hasSizeGreaterThan(10);
        return inputs;
    }

    private static byte[] mutate(byte[] input, Random random) {
        byte[] out = input;
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = out.length == 0 ? 0 : random.nextInt(out.length);
            byte b = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : INTERESTING[random.nextInt(INTERESTING.length)];
            switch (random.nextInt(3)) {
                case 0 -> {
                    if (out.length > 0) {
                        out = out.clone();
                        out[at] = b;
                    }
                }
                case 1 -> {
                    byte[] longer = new byte[out.length + 1];
                    System.arraycopy(out, 0, longer, 0, at);
                    longer[at] = b;
                    System.arraycopy(out, at, longer, at + 1, out.length - at);
                    out = longer;
                }
                default -> {
                    if (out.length > 0) {
                        byte[] shorter = new byte[out.length - 1];
                        System.arraycopy(out, 0, shorter, 0, at);
                        System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
                        out = shorter;
                    }
                }
            }
        }
        return out;
    }

    private static String escaped(byte[] input) {
        StringBuilder s = new StringBuilder();
        for (byte b : input) {
            int c = b & 0xFF;
            s.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return s.toString();
    }

    private static List<byte[]> thirds(byte[] input) {
        int a = input.length / 3;
        int b = 2 * input.length / 3;
        return List.of(Arrays.copyOfRange(input, 0, a), Arrays.copyOfRange(input, a, b), Arrays.copyOfRange(input, b, input.length));
    }

    /** What the decoder produced from the pieces, then from the end of input, as text. */
    private static List<String> decode(List<byte[]> pieces, boolean scan) {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(() -> {}, MAX_LINE, MAX_HEADER, scan));
        List<String> seen = new ArrayList<>();
        try {
            for (byte[] piece : pieces) {
                channel.writeInbound(Unpooled.wrappedBuffer(piece));
                drain(channel, seen);
            }
            channel.finish();
            drain(channel, seen);
        } catch (RuntimeException e) {
            seen.add("exception " + e.getClass().getName());
        } finally {
            channel.finishAndReleaseAll();
        }
        return seen;
    }

    private static void drain(EmbeddedChannel channel, List<String> seen) {
        Object m;
        while ((m = channel.readInbound()) != null) {
            try {
                seen.add(describe(m));
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
    }

    private static String describe(Object m) {
        StringBuilder s = new StringBuilder();
        if (m instanceof HttpObject o) {
            s.append(o.decoderResult().isSuccess() ? "ok " : "failed(" + o.decoderResult().cause().getClass().getSimpleName() + ") ");
        }
        if (m instanceof HttpRequest r) {
            s.append(r.method()).append(' ').append(r.uri()).append(' ').append(r.protocolVersion()).append(" [");
            for (Map.Entry<String, String> e : r.headers()) {
                s.append(e.getKey()).append('=').append(e.getValue()).append('|');
            }
            s.append(']');
        }
        if (m instanceof HttpContent c) {
            s.append(m instanceof LastHttpContent ? " last:" : " part:").append(c.content().toString(StandardCharsets.ISO_8859_1));
            if (m instanceof LastHttpContent last) {
                s.append(" trailers ").append(last.trailingHeaders().entries());
            }
        }
        if (m instanceof ByteBuf b) {
            s.append("bytes ").append(b.toString(StandardCharsets.ISO_8859_1));
        }
        return s.append(' ').append(m.getClass().getSimpleName()).toString();
    }
}
