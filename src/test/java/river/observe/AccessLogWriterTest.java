package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;

/** The writer between the event loops and the destination: bounded, never waits, counts what it drops. */
class AccessLogWriterTest {
    /** A destination stuck until released: the writer thread waits in write(). */
    static final class StuckSink implements AccessLogWriter.Sink {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public void write(byte[] bytes, int offset, int length) throws java.io.IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            synchronized (got) {
                got.write(bytes, offset, length);
            }
            writes.incrementAndGet();
        }

        @Override
        public void close() {}

        String text() {
            synchronized (got) {
                return got.toString(StandardCharsets.US_ASCII);
            }
        }
    }

    private static byte[] line(int i) {
        return ("line " + i + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aFullQueueDropsAndCountsEveryLineBeyondItsCapacityWithoutWaiting() throws Exception {
        StuckSink sink = new StuckSink();
        long droppedBefore = AccessLog.dropped();
        try (AccessLogWriter writer = new AccessLogWriter(sink, 40)) {
            int capacity = writer.capacity();
            assertThat(capacity).isEqualTo(64);
            assertThat(writer.offer(line(0))).isTrue();
            assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds line 0, stuck in write()
            int more = 1000;
            int accepted = 0;
            for (int i = 1; i <= more; i++) {
                accepted += writer.offer(line(i)) ? 1 : 0;
            }
            assertThat(accepted).isEqualTo(capacity);
            assertThat(writer.dropped()).isEqualTo(more - capacity);
            assertThat(AccessLog.dropped() - droppedBefore).isEqualTo(more - capacity);
            sink.release.countDown();
            Eventually.await(() -> writer.written() == 1 + capacity, 10_000);
            // What was queued is written, in order, and fewer writes than lines (batches).
            String[] lines = sink.text().split("\n");
            assertThat(lines).hasSize(1 + capacity);
            for (int i = 0; i <= capacity; i++) {
                assertThat(lines[i]).isEqualTo("line " + i);
            }
            assertThat(sink.writes.get()).isLessThan(1 + capacity);
        }
    }

    @Test
    void closeWritesWhatIsStillQueued() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLogWriter writer = new AccessLogWriter(AccessLogSinks.stream(out), 1000);
        for (int i = 0; i < 500; i++) {
            writer.offer(line(i));
        }
        writer.close();
        assertThat(out.toString(StandardCharsets.US_ASCII).split("\n")).hasSize(500);
        assertThat(writer.offer(line(501))).isFalse();
    }
}
