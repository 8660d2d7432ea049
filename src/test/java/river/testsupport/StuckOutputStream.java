package river.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A destination that is stuck until the test releases it: the first write (and every later one)
 * waits in {@code write} until {@link #release} is counted down, then keeps what it was given.
 * {@link #entered} opens when a writer first waits in it.
 */
public final class StuckOutputStream extends OutputStream {
    public final CountDownLatch entered = new CountDownLatch(1);
    public final CountDownLatch release = new CountDownLatch(1);
    private final ByteArrayOutputStream got = new ByteArrayOutputStream();
    private final AtomicInteger writes = new AtomicInteger();

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        entered.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            throw new InterruptedIOException();
        }
        synchronized (got) {
            got.write(b, off, len);
        }
        writes.incrementAndGet();
    }

    /** What was written, as ASCII. */
    public String text() {
        synchronized (got) {
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    public long lines() {
        return text().lines().count();
    }

    /** How many writes the stream took (a batching writer takes fewer than the lines it writes). */
    public int writes() {
        return writes.get();
    }
}
