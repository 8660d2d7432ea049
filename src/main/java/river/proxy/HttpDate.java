package river.proxy;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * HTTP dates (RFC 9110 §5.6.7): the IMF-fixdate River writes in {@code Date} and {@code Last-Modified},
 * and the parsing of the dates clients send in {@code If-Modified-Since} and friends. The current
 * second's text is formatted once and shared: a request in the same second reuses it.
 */
public final class HttpDate {
    /** IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}; immutable and thread-safe. */
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    /** The last second formatted and its text, replaced together. */
    private record Cached(long second, String text) {}

    private static volatile Cached cached = new Cached(Long.MIN_VALUE, "");

    private HttpDate() {}

    /** The {@code Date} value for now. */
    public static String now() {
        return ofSecond(Math.floorDiv(System.currentTimeMillis(), 1000));
    }

    /** The {@code Date} value for a second since the epoch, cached when it is the latest asked for. */
    public static String ofSecond(long epochSecond) {
        Cached c = cached;
        if (c.second == epochSecond) {
            return c.text;
        }
        String text = IMF_FIXDATE.format(Instant.ofEpochSecond(epochSecond));
        if (epochSecond > c.second) {
            cached = new Cached(epochSecond, text);
        }
        return text;
    }

    /** Formats any instant (truncated to the second) without touching the cache. */
    public static String format(long epochSecond) {
        return IMF_FIXDATE.format(Instant.ofEpochSecond(epochSecond));
    }

    /**
     * Parses an HTTP date as seconds since the epoch; IMF-fixdate only (the obsolete RFC 850 and asctime
     * forms are rare and an unparsable date makes the condition be ignored, as RFC 9110 asks).
     *
     * @return the second, or {@link Long#MIN_VALUE} when the text is not a date
     */
    public static long parse(String text) {
        try {
            return Instant.from(IMF_FIXDATE.parse(text.trim())).getEpochSecond();
        } catch (DateTimeParseException e) {
            return Long.MIN_VALUE;
        }
    }
}
