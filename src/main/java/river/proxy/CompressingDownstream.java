package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * An exchange's client side that compresses the response body when {@link Compression#decide} says so:
 * every body piece goes through Netty's encoder as it comes (streaming: the encoder holds at most its
 * window), and the engine's backpressure stays as it is, since each piece in gives at most about as
 * much out and writability is the client connection's own. A file body, of any size, becomes a
 * {@link CompressedFileBody} that the connection pulls a piece at a time while it is writable.
 */
final class CompressingDownstream implements Downstream {
    private final Downstream delegate;
    private final Compression compression;
    private final List<String> offered;
    private final HttpRequest request;
    private EmbeddedChannel encoder;

    CompressingDownstream(Downstream delegate, Compression compression, List<String> offered, HttpRequest request) {
        this.delegate = delegate;
        this.compression = compression;
        this.offered = offered;
        this.request = request;
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        String coding = compression.decide(request, head, bodyFollows, offered);
        if (coding != null) {
            encoder = compression.encoder(coding);
        }
        delegate.sendHead(head, bodyFollows);
    }

    @Override
    public void flush() {
        delegate.flush();
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
            ByteBuf bytes = CompressedFileBody.drain(encoder);
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

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        if (encoder == null) {
            delegate.sendFile(file, offset, length);
            return;
        }
        // The body now owns the encoder: it is read, compressed and written as the connection takes it.
        EmbeddedChannel e = encoder;
        encoder = null;
        delegate.sendChunks(new CompressedFileBody(file, offset, length, e));
    }

    @Override
    public void sendChunks(io.netty.handler.stream.ChunkedInput<HttpContent> body) {
        delegate.sendChunks(body);
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
    public void switchToTunnel(HttpResponse switching, Tunnel.Join upstreamSide,
            long idleTimeoutMs) {
        release();
        delegate.switchToTunnel(switching, upstreamSide, idleTimeoutMs);
    }
}
