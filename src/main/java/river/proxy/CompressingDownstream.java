package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * An exchange's client side that compresses the response body when {@link Compression#decide} says so:
 * every body piece goes through Netty's encoder as it comes (streaming: the encoder holds at most its
 * window), and the engine's backpressure stays as it is, since each piece in gives at most about as
 * much out and writability is the client connection's own. A file body up to {@link #MAX_FILE} is read
 * and compressed in {@link #FILE_READ} pieces; a larger one goes as it is (zero copy), decided before
 * its head is sent.
 */
final class CompressingDownstream implements Downstream {
    /** The largest file compressed on the fly: its compressed bytes are queued at once. */
    static final long MAX_FILE = 1024 * 1024;
    private static final int FILE_READ = 64 * 1024;

    private final Downstream delegate;
    private final Compression compression;
    private final List<String> offered;
    private final HttpRequest request;
    private long fileFollows = -1;
    private EmbeddedChannel encoder;

    CompressingDownstream(Downstream delegate, Compression compression, List<String> offered, HttpRequest request) {
        this.delegate = delegate;
        this.compression = compression;
        this.offered = offered;
        this.request = request;
    }

    /** The body that follows the next head is a file range of this many bytes. */
    void fileFollows(long length) {
        fileFollows = length;
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        boolean tooLargeFile = fileFollows > MAX_FILE;
        String coding = tooLargeFile ? null : compression.decide(request, head, bodyFollows, offered);
        if (coding != null) {
            encoder = compression.encoder(coding);
        }
        delegate.sendHead(head, bodyFollows);
    }

    @Override
    public void sendBody(HttpContent content) {
        if (encoder == null) {
            delegate.sendBody(content);
            return;
        }
        boolean last = content instanceof LastHttpContent;
        ByteBuf in = content.content().retain();
        HttpContent out;
        try {
            if (in.isReadable()) {
                encoder.writeOutbound(in);
            } else {
                in.release();
            }
            if (last) {
                encoder.finish();
            }
            ByteBuf bytes = drain();
            if (last) {
                LastHttpContent end = new DefaultLastHttpContent(bytes);
                end.trailingHeaders().set(((LastHttpContent) content).trailingHeaders());
                out = end;
                release();
            } else {
                out = new DefaultHttpContent(bytes);
            }
        } finally {
            content.release();
        }
        delegate.sendBody(out);
    }

    /** What the encoder has produced so far, as one buffer. */
    private ByteBuf drain() {
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
                    all = Unpooled.compositeBuffer(64);
                    all.addComponent(true, first);
                }
                all.addComponent(true, b);
            }
        }
        return all != null ? all : first != null ? first : Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        if (encoder == null) {
            delegate.sendFile(file, offset, length);
            return;
        }
        try (file) {
            long position = offset;
            long end = offset + length;
            while (position < end) {
                int n = (int) Math.min(FILE_READ, end - position);
                ByteBuffer chunk = ByteBuffer.allocate(n);
                while (chunk.hasRemaining()) {
                    int r = file.read(chunk, position + chunk.position());
                    if (r < 0) {
                        throw new IOException("file shorter than its length");
                    }
                }
                chunk.flip();
                position += n;
                sendBody(new DefaultHttpContent(Unpooled.wrappedBuffer(chunk)));
            }
        } catch (IOException e) {
            release();
            delegate.abort();
            return;
        }
        sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** Frees the encoder (and whatever it still holds); safe to call more than once. */
    void release() {
        EmbeddedChannel e = encoder;
        encoder = null;
        if (e != null) {
            e.finishAndReleaseAll();
        }
    }

    @Override
    public void abort() {
        release();
        delegate.abort();
    }

    @Override
    public void responseComplete(boolean requestFullyRead) {
        release();
        delegate.responseComplete(requestFullyRead);
    }

    // ---- the rest as the connection does it ----------------------------------------------------------

    @Override
    public EventLoop eventLoop() {
        return delegate.eventLoop();
    }

    @Override
    public java.net.InetSocketAddress localAddress() {
        return delegate.localAddress();
    }

    @Override
    public boolean isHttp10() {
        return delegate.isHttp10();
    }

    @Override
    public boolean isHttp2() {
        return delegate.isHttp2();
    }

    @Override
    public void setReading(boolean reading) {
        delegate.setReading(reading);
    }

    @Override
    public boolean isWritable() {
        return delegate.isWritable();
    }

    @Override
    public void sendInformational(HttpResponse response) {
        delegate.sendInformational(response);
    }

    @Override
    public void wakeAt(long deadlineNanos) {
        delegate.wakeAt(deadlineNanos);
    }

    @Override
    public void switchToTunnel(HttpResponse switching, java.util.function.UnaryOperator<io.netty.channel.Channel> upstreamSide,
            long idleTimeoutMs) {
        release();
        delegate.switchToTunnel(switching, upstreamSide, idleTimeoutMs);
    }
}
