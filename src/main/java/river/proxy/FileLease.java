package river.proxy;

import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * One transfer's hold on a read-only file that several transfers share (the file server's open-file
 * cache): reads go to the shared channel at explicit positions, so the transfers never disturb each
 * other, and closing the lease runs its release once instead of closing the shared file. The size is
 * the one recorded when the file was opened, so asking for it makes no system call.
 *
 * <p>Zero-copy writers must send {@link #region} rather than a {@link DefaultFileRegion} around the
 * lease: the native transports read the descriptor from the JDK's own channel class.
 */
public final class FileLease extends FileChannel {
    private final FileChannel shared;
    private final long size;
    private final Runnable release;
    private long position;

    /**
     * @param shared the open file, never closed by the lease
     * @param size the file's size when it was opened
     * @param release run once, when the lease is closed
     */
    public FileLease(FileChannel shared, long size, Runnable release) {
        this.shared = shared;
        this.size = size;
        this.release = release;
    }

    /** A zero-copy region of the shared file whose deallocation closes this lease, not the file. */
    public FileRegion region(long offset, long length) {
        return new DefaultFileRegion(shared, offset, length) {
            @Override
            protected void deallocate() {
                try {
                    FileLease.this.close();
                } catch (IOException ignored) {
                    // Closing a lease only runs its release.
                }
            }
        };
    }

    private void ensureOpen() throws IOException {
        if (!isOpen()) {
            throw new java.nio.channels.ClosedChannelException();
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = read(dst, position);
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            int n = read(dsts[i]);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            if (dsts[i].hasRemaining()) {
                break;
            }
        }
        return total;
    }

    @Override
    public int read(ByteBuffer dst, long at) throws IOException {
        ensureOpen();
        return shared.read(dst, at);
    }

    @Override
    public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
        ensureOpen();
        return shared.transferTo(at, count, target);
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        return position;
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        ensureOpen();
        position = newPosition;
        return this;
    }

    @Override
    public long size() throws IOException {
        ensureOpen();
        return size;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new NonWritableChannelException();
    }

    @Override
    public int write(ByteBuffer src, long at) {
        throw new NonWritableChannelException();
    }

    @Override
    public FileChannel truncate(long newSize) {
        throw new NonWritableChannelException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long at, long count) {
        throw new NonWritableChannelException();
    }

    @Override
    public void force(boolean metaData) {
        // Nothing is ever written.
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long at, long length) throws IOException {
        throw new UnsupportedOperationException("a shared file is not mapped");
    }

    @Override
    public FileLock lock(long at, long length, boolean isShared) {
        throw new UnsupportedOperationException("a shared file is not locked");
    }

    @Override
    public FileLock tryLock(long at, long length, boolean isShared) {
        throw new UnsupportedOperationException("a shared file is not locked");
    }

    @Override
    protected void implCloseChannel() {
        // AbstractInterruptibleChannel calls this once, whoever closes and however often.
        release.run();
    }
}
