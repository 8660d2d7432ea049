package river.proxy;

import java.time.Instant;
import java.time.LocalDate;
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

    /** 1970-01-01, day 0 of the epoch, was a Thursday. */
    private static final String[] DAYS = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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
        String text = format(epochSecond);
        if (epochSecond > c.second) {
            cached = new Cached(epochSecond, text);
        }
        return text;
    }

    /**
     * Formats any second without touching the cache. Written out by hand: this runs for the
     * {@code Last-Modified} of every file answer, where {@link DateTimeFormatter} cost about 2 % of a
     * file request's CPU; years outside 1–9999 go through the formatter.
     */
    public static String format(long epochSecond) {
        long day = Math.floorDiv(epochSecond, 86400L);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86400L);
        LocalDate date = day >= -719162L && day <= 2932896L ? LocalDate.ofEpochDay(day) : null;  // 0001-01-01 … 9999-12-31
        if (date == null) {
            return IMF_FIXDATE.format(Instant.ofEpochSecond(epochSecond));
        }
        int year = date.getYear();
        char[] c = new char[29];
        DAYS[(int) Math.floorMod(day, 7L)].getChars(0, 3, c, 0);
        c[3] = ',';
        c[4] = ' ';
        two(c, 5, date.getDayOfMonth());
        c[7] = ' ';
        MONTHS[date.getMonthValue() - 1].getChars(0, 3, c, 8);
        c[11] = ' ';
        two(c, 12, year / 100);
        two(c, 14, year % 100);
        c[16] = ' ';
        two(c, 17, secondOfDay / 3600);
        c[19] = ':';
        two(c, 20, secondOfDay / 60 % 60);
        c[22] = ':';
        two(c, 23, secondOfDay % 60);
        " GMT".getChars(0, 4, c, 25);
        return new String(c);
    }

    private static void two(char[] c, int at, int value) {
        c[at] = (char) ('0' + value / 10);
        c[at + 1] = (char) ('0' + value % 10);
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
