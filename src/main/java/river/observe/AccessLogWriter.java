package river.observe;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes finished access-log lines from any thread without blocking it and writes them, many per write,
 * from one thread of its own ({@code river-access-log}) to a {@link Sink}.
 *
 * <p>Lines wait in a bounded lock-free queue (multi-producer, single-consumer). When it is full
 * (the destination is slower than the traffic, or stuck) a line is dropped and counted
 * ({@link #dropped()}, and process-wide {@link AccessLog#dropped()}); the event loop that offered it
 * carries on. The writer wakes every {@value #BATCH_WAIT_MS} ms while lines come, drains what is
 * queued into one batch of up to {@value #BATCH_BYTES} bytes per write, and parks until woken when
 * nothing has come for a while. {@link #close} writes what is still queued.
 */
public final class AccessLogWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AccessLogWriter.class);
    static final int BATCH_BYTES = 64 * 1024;
    static final int BATCH_WAIT_MS = 10;
    /** Empty polls before the writer parks until a producer wakes it. */
    private static final int IDLE_POLLS = 100;

    /** Where batches of lines go; called from the writer thread only. */
    public interface Sink extends AutoCloseable {
        void write(byte[] bytes, int offset, int length) throws IOException;

        @Override
        void close();
    }

    private final Queue<byte[]> queue;
    private final int capacity;
    private final Sink sink;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final Thread thread;
    private final byte[] batch = new byte[BATCH_BYTES];
    /** Set by the writer before it parks without a timeout; a producer that sees it wakes the writer. */
    private volatile boolean sleeping;
    private volatile boolean closing;
    private boolean failedOnce;

    /** A writer to {@code sink} whose queue holds {@code capacity} lines, rounded up to a power of two. */
    public AccessLogWriter(Sink sink, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.sink = sink;
        this.capacity = io.netty.util.internal.MathUtil.safeFindNextPositivePowerOfTwo(capacity);
        this.queue = PlatformDependent.newFixedMpscQueue(this.capacity);
        this.thread = new Thread(this::run, "river-access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues one line (its bytes now belong to the writer); never waits. Returns false, counting the
     * line as dropped, when the queue is full or the writer is closed.
     */
    public boolean offer(byte[] line) {
        if (closing || !queue.offer(line)) {
            dropped.increment();
            AccessLog.DROPPED.increment();
            return false;
        }
        if (sleeping) {
            sleeping = false;
            LockSupport.unpark(thread);
        }
        return true;
    }

    /** Lines dropped because the queue was full (or the writer closed). */
    public long dropped() {
        return dropped.sum();
    }

    /** Lines handed to the sink. */
    public long written() {
        return written.sum();
    }

    /** How many lines the queue holds at most: the capacity asked for, rounded up to a power of two. */
    public int capacity() {
        return capacity;
    }

    private void run() {
        int idle = 0;
        while (true) {
            if (drain()) {
                idle = 0;
                continue;
            }
            if (closing) {
                if (!drain()) {
                    return;
                }
                continue;
            }
            if (++idle < IDLE_POLLS) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(BATCH_WAIT_MS));
            } else {
                sleeping = true;
                if (queue.isEmpty() && !closing) {
                    LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
                }
                sleeping = false;
                idle = 0;
            }
        }
    }

    /** Writes everything queued now, in batches; false if there was nothing. */
    private boolean drain() {
        byte[] line = queue.poll();
        if (line == null) {
            return false;
        }
        int used = 0;
        long lines = 0;
        while (line != null) {
            if (used > 0 && used + line.length > batch.length) {
                write(batch, used);
                used = 0;
            }
            if (line.length > batch.length) {
                write(line, line.length);
            } else {
                System.arraycopy(line, 0, batch, used, line.length);
                used += line.length;
            }
            lines++;
            line = queue.poll();
        }
        if (used > 0) {
            write(batch, used);
        }
        written.add(lines);
        return true;
    }

    private void write(byte[] bytes, int length) {
        try {
            sink.write(bytes, 0, length);
            failedOnce = false;
        } catch (IOException | RuntimeException e) {
            if (!failedOnce) {
                LOG.warn("the access log could not be written: {}", e.toString());
                failedOnce = true;
            }
        }
    }

    /** Writes what is queued, stops the writer thread and closes the sink. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sink.close();
    }
}
