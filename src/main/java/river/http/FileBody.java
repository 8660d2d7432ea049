package river.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelProgressiveFuture;
import io.netty.channel.ChannelProgressivePromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;

/**
 * A file range written as a response body, so that the file is closed whatever happens: by Netty once
 * the body has gone out (the file region or chunked input closes it), or here when the body cannot be
 * built, the connection is already gone, or the write fails. Netty closes the file on some failures
 * too; closing a closed FileChannel does nothing, so the descriptor is released exactly once.
 */
final class FileBody {
    /** How the body is framed on the wire. */
    enum Framing {
        /** HTTP/1.x in clear: zero-copy from the file to the socket. */
        ZERO_COPY,
        /** HTTP/1.x through TLS: read in chunks, since the bytes must go through the encryption. */
        CHUNKS,
        /** HTTP/2: read in chunks that become DATA frames, the last one ending the stream. */
        HTTP2_CHUNKS
    }

    /** The pipeline name of the handler that writes chunked bodies piece by piece. */
    static final String CHUNKED_WRITER = "chunked-writer";

    private FileBody() {}

    /**
     * Puts a {@link ChunkedWriteHandler} just before {@code handler} unless the pipeline has one. Chunked
     * bodies are rare and the writer queues every write that passes it until a flush, so connections
     * and streams get one only when their first chunked body is sent.
     */
    static void ensureChunkedWriter(ChannelPipeline pipeline, ChannelHandler handler) {
        ChannelHandlerContext ctx = pipeline.context(handler);
        // Without a context the channel is closed and its pipeline emptied: the write that follows
        // fails and closes the body.
        if (ctx != null && pipeline.get(CHUNKED_WRITER) == null) {
            pipeline.addBefore(ctx.name(), CHUNKED_WRITER, new ChunkedWriteHandler());
        }
    }

    /** Removes the chunked writer, if the pipeline has one (a connection or stream becoming a tunnel). */
    static void removeChunkedWriter(ChannelPipeline pipeline) {
        if (pipeline.get(CHUNKED_WRITER) != null) {
            pipeline.remove(CHUNKED_WRITER);
        }
    }

    /**
     * Writes (without flushing) the range as the body.
     *
     * @return the write's future, which reports progress (bytes of the range sent so far), or null, the
     *     file closed, if nothing could be written: the caller then aborts the response
     */
    static ChannelProgressiveFuture write(Channel channel, FileChannel file, long offset, long length, Framing framing) {
        Object body;
        try {
            if (!channel.isActive()) {
                // A closed channel's pipeline is gone: a chunked input written now would never be closed.
                throw new ClosedChannelException();
            }
            body = switch (framing) {
                // A lease on a shared file (the open-file cache) sends the file itself: see FileLease.
                case ZERO_COPY -> file instanceof river.proxy.FileLease lease
                        ? lease.region(offset, length) : new DefaultFileRegion(file, offset, length);
                case CHUNKS -> new ChunkedNioFile(file, offset, length, 64 * 1024);
                case HTTP2_CHUNKS -> http2Input(file, offset, length);
            };
        } catch (IOException | RuntimeException e) {
            close(file);
            return null;
        }
        return write(channel, body, () -> close(file));
    }

    /**
     * Writes (without flushing) a body produced piece by piece through the pipeline's
     * {@code ChunkedWriteHandler}; the input is closed by it at the end or when the connection goes,
     * or here when it cannot be written at all.
     *
     * @return as {@link #write(Channel, FileChannel, long, long, Framing)}
     */
    static ChannelProgressiveFuture writeChunks(Channel channel, ChunkedInput<?> body) {
        if (!channel.isActive()) {
            close(body);
            return null;
        }
        return write(channel, body, () -> close(body));
    }

    private static ChannelProgressiveFuture write(Channel channel, Object body, Runnable closeOnFailure) {
        ChannelProgressivePromise promise = channel.newProgressivePromise();
        promise.addListener(f -> {
            if (!f.isSuccess()) {
                closeOnFailure.run();
                // A body cut short (a file that shrank, a failed read) leaves the response unframed: the
                // connection (HTTP/2: the stream) cannot carry another. Already closed when the client left.
                channel.close();
            }
        });
        channel.write(body, promise);
        return promise;
    }

    /**
     * The range as HTTP/2 body pieces for a stream to pull ({@link Http2ServerStream}), or null, the file
     * closed, if it cannot be read.
     */
    static ChunkedInput<io.netty.handler.codec.http.HttpContent> http2Chunks(FileChannel file, long offset, long length) {
        try {
            return http2Input(file, offset, length);
        } catch (IOException | RuntimeException e) {
            close(file);
            return null;
        }
    }

    private static HttpChunkedInput http2Input(FileChannel file, long offset, long length) throws IOException {
        return new HttpChunkedInput(new ChunkedNioFile(file, offset, length, 16 * 1024));
    }

    static void close(ChunkedInput<?> body) {
        try {
            body.close();
        } catch (Exception ignored) {
            // What it holds (a file read from, an encoder) is released all the same.
        }
    }

    private static void close(FileChannel file) {
        try {
            file.close();
        } catch (IOException ignored) {
            // A read-only file has nothing left to flush: its descriptor is released all the same.
        }
    }
}
