package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.stream.ChunkedInput;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A file range compressed on the fly as the connection takes it: each {@link #readChunk} reads the next
 * {@link #PIECE} of the file, runs it through the encoder and returns what came out (the last one ends
 * the response). Netty's {@code ChunkedWriteHandler} calls it only while the connection (or HTTP/2
 * stream) is writable, so River holds one piece, the encoder's window and what the socket takes,
 * whatever the file's size. It owns the file and the encoder: {@link #close} frees both, at the end or
 * when the client leaves.
 */
final class CompressedFileBody implements ChunkedInput<HttpContent> {
    static final int PIECE = 64 * 1024;
    /** Input a single call may feed an encoder that has not produced anything yet, before it yields. */
    private static final int MAX_INPUT_PER_CHUNK = 16 * PIECE;

    private final FileChannel file;
    private final long start;
    private final long end;
    private EmbeddedChannel encoder;
    private long position;
    private boolean ended;

    CompressedFileBody(FileChannel file, long offset, long length, EmbeddedChannel encoder) {
        this.file = file;
        this.start = offset;
        this.end = offset + length;
        this.position = offset;
        this.encoder = encoder;
    }

    @Override
    public boolean isEndOfInput() {
        return ended;
    }

    @Override
    @Deprecated
    public HttpContent readChunk(io.netty.channel.ChannelHandlerContext ctx) throws Exception {
        return readChunk(ctx.alloc());
    }

    @Override
    public HttpContent readChunk(ByteBufAllocator alloc) throws Exception {
        if (ended) {
            return null;
        }
        long fed = 0;
        while (position < end) {
            int n = (int) Math.min(PIECE, end - position);
            ByteBuf piece = alloc.buffer(n);
            try {
                while (piece.isWritable()) {
                    if (piece.writeBytes(file, position + piece.readableBytes(), piece.writableBytes()) < 0) {
                        throw new IOException("file shorter than its length");
                    }
                }
            } catch (IOException | RuntimeException e) {
                piece.release();
                throw e;
            }
            position += n;
            fed += n;
            encoder.writeOutbound(piece);
            ByteBuf out = drain(encoder);
            if (out.isReadable() || fed >= MAX_INPUT_PER_CHUNK && position < end) {
                return new DefaultHttpContent(out);
            }
            out.release();
        }
        encoder.finish();
        ended = true;
        return new DefaultLastHttpContent(drain(encoder));
    }

    /** What an encoder has produced so far, as one buffer (empty if nothing). */
    static ByteBuf drain(EmbeddedChannel encoder) {
        CompositeByteBuf all = null;
        ByteBuf first = null;
        ByteBuf b;
        while ((b = encoder.readOutbound()) != null) {
            if (!b.isReadable()) {
                b.release();
            } else if (first == null) {
                first = b;
            } else {
                if (all == null) {
                    all = io.netty.buffer.Unpooled.compositeBuffer(64);
                    all.addComponent(true, first);
                }
                all.addComponent(true, b);
            }
        }
        return all != null ? all : first != null ? first : io.netty.buffer.Unpooled.EMPTY_BUFFER;
    }

    @Override
    public long length() {
        return -1;
    }

    @Override
    public long progress() {
        return position - start;
    }

    @Override
    public void close() throws IOException {
        EmbeddedChannel e = encoder;
        encoder = null;
        if (e != null) {
            e.finishAndReleaseAll();
        }
        file.close();
    }
}
