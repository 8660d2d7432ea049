package river.modules.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** If-Range (RFC 9110 §13.1.5): only a strong validator holds, a date only when it is strong (§8.8.2.2). */
class IfRangeTest {
    private static final Instant MTIME = Instant.parse("2020-01-02T03:04:05.250Z");
    private static final long MTIME_NANOS = MTIME.getEpochSecond() * 1_000_000_000L + MTIME.getNano();
    private static final String LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT";
    private static final String ETAG = "\"10-abc\"";

    private static boolean holds(String ifRange, long nowMillis) {
        return FileServerModule.ifRangeHolds(ifRange, ETAG, MTIME_NANOS, nowMillis);
    }

    @Test
    void aDateHoldsOnlyWhenItIsLastModifiedAndTheChangeIsAtLeastASecondOld() {
        long later = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        assertThat(holds(LAST_MODIFIED, later)).isTrue();
        assertThat(holds("Thursday, 02-Jan-20 03:04:05 GMT", later)).as("RFC 850").isTrue();
        assertThat(holds("Thu Jan  2 03:04:05 2020", later)).as("asctime").isTrue();
        assertThat(holds("Thu, 02 Jan 2020 03:04:06 GMT", later)).as("a later date").isFalse();
        assertThat(holds("Thu, 02 Jan 2020 03:04:04 GMT", later)).as("an earlier date").isFalse();
        assertThat(holds("not a date", later)).isFalse();
        // The same date while the change is less than a second old: weak, so the whole file is sent.
        long sameSecond = MTIME.toEpochMilli() + 500;
        assertThat(holds(LAST_MODIFIED, sameSecond)).isFalse();
        assertThat(holds(LAST_MODIFIED, MTIME.toEpochMilli() + 999)).isFalse();
        assertThat(holds(LAST_MODIFIED, MTIME.toEpochMilli() + 1000)).as("exactly one second").isTrue();
        // A modification time in the future (a clock set wrong, a file touched ahead) is never strong.
        assertThat(holds(LAST_MODIFIED, MTIME.toEpochMilli() - 60_000)).isFalse();
    }

    @Test
    void anEntityTagHoldsOnlyStrongAndEqual() {
        long later = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        assertThat(holds(ETAG, later)).isTrue();
        assertThat(holds("W/" + ETAG, later)).as("weak").isFalse();
        assertThat(holds("\"other\"", later)).isFalse();
    }
}
