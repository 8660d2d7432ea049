package river.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP/2 client written frame by frame over a socket (h2c prior knowledge, or TLS with ALPN
 * {@code h2}), for what a library client does not let a test do: hold a stream's flow-control window
 * shut (it never sends WINDOW_UPDATE), reset one stream and keep the connection, or just vanish.
 * Request headers are HPACK literals without indexing (no Huffman), so no encoder state is needed;
 * response header blocks are not decoded.
 */
public final class RawHttp2 implements AutoCloseable {
    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int GOAWAY = 7;
    public static final int END_STREAM = 1;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** One frame read: its type, flags, stream and payload. */
    public record Frame(int type, int flags, int stream, byte[] payload) {
        public boolean endStream() {
            return (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0;
        }
    }

    /** Sends the connection preface and an empty SETTINGS frame on a connected socket. */
    public RawHttp2(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(30_000); // only stops a hung test: every read waits for a frame
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        frame(SETTINGS, 0, 0, new byte[0]);
    }

    public Socket socket() {
        return socket;
    }

    /** Opens {@code stream} with a request without body; {@code extra} are name/value pairs (lower-case names). */
    public void request(int stream, String method, String scheme, String path, String... extra) throws IOException {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        literal(block, 2, method); // static table: 2 :method, 6 :scheme, 4 :path, 1 :authority
        literal(block, 6, scheme);
        literal(block, 4, path);
        literal(block, 1, "localhost");
        for (int i = 0; i + 1 < extra.length; i += 2) {
            block.write(0); // literal without indexing, new name
            string(block, extra[i]);
            string(block, extra[i + 1]);
        }
        frame(HEADERS, END_STREAM | 4 /* END_HEADERS */, stream, block.toByteArray());
    }

    /** Resets a stream with CANCEL, as a browser does when the user navigates away. */
    public void cancel(int stream) throws IOException {
        frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8});
    }

    /** The next frame; SETTINGS from the server is acknowledged on the way. */
    public Frame read() throws IOException {
        int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & Integer.MAX_VALUE;
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (type == SETTINGS && (flags & 1) == 0) {
            frame(SETTINGS, 1, 0, new byte[0]);
        }
        return new Frame(type, flags, stream, payload);
    }

    public void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] head = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
        out.write(head);
        out.write(payload);
        out.flush();
    }

    private static void literal(ByteArrayOutputStream block, int nameIndex, String value) {
        block.write(nameIndex); // 0000xxxx: literal without indexing, name from the static table
        string(block, value);
    }

    private static void string(ByteArrayOutputStream block, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        int length = bytes.length;
        if (length < 127) {
            block.write(length);
        } else {
            block.write(127);
            length -= 127;
            while (length >= 128) {
                block.write((length & 127) | 128);
                length >>>= 7;
            }
            block.write(length);
        }
        block.writeBytes(bytes);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
