package river.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-written IMF-fixdate gives what the JDK's formatter gives, and parses back. */
class HttpDateFormatTest {
    private static final DateTimeFormatter JDK =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private static String jdk(long second) {
        return JDK.format(Instant.ofEpochSecond(second));
    }

    @Test
    void rfc9110Example() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(784111777L));
        assertEquals(784111777L, HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
    }

    @Test
    void sameAsTheJdkAtTheEdges() {
        long[] seconds = {0, -1, 1, 59, 60, 3599, 3600, 86399, 86400, -86400, -86401,
                951782400L /* 2000-02-29 */, 951868799L, 4107542400L /* 2100-03-01 */, -2203891200L /* 1900-02-28 */,
                253402300799L /* 9999-12-31T23:59:59 */, 253402300800L /* 10000-01-01: the formatter's way */,
                -62135596800L /* 0001-01-01 */, -62135596801L /* 0000-12-31: the formatter's way */,
                Instant.parse("2026-12-03T18:30:00Z").getEpochSecond()};
        for (long s : seconds) {
            assertEquals(jdk(s), HttpDate.format(s), "second " + s);
        }
    }

    @Test
    void sameAsTheJdkForRandomSeconds() {
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 200_000; i++) {
            long s = random.nextLong(-62135596800L, 253402300800L);
            String text = HttpDate.format(s);
            assertEquals(jdk(s), text, "second " + s);
            if (s >= 0 && i % 100 == 0) {
                assertEquals(s, HttpDate.parse(text));
            }
        }
    }

    @Test
    void ofSecondCachesTheLatestAndFormatsOthers() {
        long now = System.currentTimeMillis() / 1000;
        assertEquals(jdk(now), HttpDate.ofSecond(now));
        assertEquals(jdk(now - 5000), HttpDate.ofSecond(now - 5000));
        assertEquals(jdk(now), HttpDate.ofSecond(now));
    }
}
