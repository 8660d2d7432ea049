package river.proxy;

import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/** A client side for state-machine tests: records what the exchange asked of it. */
final class RecordingDownstream implements Downstream {
    final EmbeddedChannel channel = new EmbeddedChannel();
    final List<HttpResponse> heads = new ArrayList<>();
    final List<HttpResponse> informational = new ArrayList<>();
    final StringBuilder body = new StringBuilder();
    LastHttpContent last;
    boolean reading = true;
    boolean writable = true;
    boolean aborted;
    boolean completed;
    boolean tunnelled;
    /** Flushes asked for since the last head or body piece (which flush themselves). */
    int flushes;
    FileChannel fileSent;
    final List<Long> wakeUps = new ArrayList<>();

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public boolean isHttp10() {
        return false;
    }

    @Override
    public void setReading(boolean reading) {
        this.reading = reading;
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void sendInformational(HttpResponse response) {
        informational.add(response);
    }

    @Override
    public void sendHead(HttpResponse head, boolean bodyFollows) {
        heads.add(head);
        flushes = 0;
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public void sendBody(HttpContent content) {
        body.append(content.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        if (content instanceof LastHttpContent end) {
            last = end;
        }
        content.release();
    }

    @Override
    public void sendFile(FileChannel file, long offset, long length) {
        fileSent = file;
    }

    @Override
    public void sendChunks(io.netty.handler.stream.ChunkedInput<HttpContent> body) {
        try {
            body.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void responseComplete(boolean requestFullyRead) {
        completed = true;
    }

    @Override
    public void wakeAt(long deadlineNanos) {
        wakeUps.add(deadlineNanos);
    }

    @Override
    public void switchToTunnel(HttpResponse switching, Tunnel.Join upstreamSide, long idleTimeoutMs) {
        heads.add(switching);
        tunnelled = true;
    }

    @Override
    public void abort() {
        aborted = true;
    }

    int status() {
        return heads.isEmpty() ? -1 : heads.get(heads.size() - 1).status().code();
    }
}
