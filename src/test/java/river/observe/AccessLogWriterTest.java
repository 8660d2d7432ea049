package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.StuckOutputStream;

/** The writer between the event loops and the destination: bounded, never waits, counts what it drops. */
class AccessLogWriterTest {
    private static byte[] line(int i) {
        return ("line " + i + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aFullQueueDropsAndCountsEveryLineBeyondItsCapacityWithoutWaiting() throws Exception {
        StuckOutputStream sink = new StuckOutputStream();
        long droppedBefore = AccessLog.dropped();
        try (AccessLogWriter writer = new AccessLogWriter(AccessLogSinks.stream(sink), 40)) {
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
            assertThat(sink.writes()).isLessThan(1 + capacity);
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
