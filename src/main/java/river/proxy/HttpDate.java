package river.proxy;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
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

    /** RFC 850 (obsolete): {@code Sunday, 06-Nov-94 08:49:37 GMT}, a two-digit year. */
    private static final java.util.regex.Pattern RFC_850 = java.util.regex.Pattern.compile(
            "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-([A-Z][a-z]{2})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT");
    /** asctime (obsolete): {@code Sun Nov  6 08:49:37 1994}, the day padded with a space. */
    private static final java.util.regex.Pattern ASCTIME = java.util.regex.Pattern.compile(
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})");

    /**
     * Parses an HTTP date as seconds since the epoch, in any of the three forms a recipient must accept
     * (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms. The day of the week
     * must be the date's.
     *
     * @return the second, or {@link Long#MIN_VALUE} when the text is not a date (a condition with such
     *     a date is ignored, as RFC 9110 asks)
     */
    public static long parse(String text) {
        return parse(text, System.currentTimeMillis() / 1000);
    }

    /**
     * {@link #parse(String)} with the current second given: an RFC 850 two-digit year is the one from 49
     * years before now to 50 years after (a year more than 50 years ahead is the past one, §5.6.7).
     */
    public static long parse(String text, long nowEpochSecond) {
        String t = text.trim();
        try {
            return Instant.from(IMF_FIXDATE.parse(t)).getEpochSecond();
        } catch (DateTimeParseException e) {
            // one of the obsolete forms, or not a date
        }
        java.util.regex.Matcher m = RFC_850.matcher(t);
        if (m.matches()) {
            int nowYear = java.time.LocalDate.ofEpochDay(Math.floorDiv(nowEpochSecond, 86_400)).getYear();
            int year = nowYear - Math.floorMod(nowYear, 100) + Integer.parseInt(m.group(4));
            if (year > nowYear + 50) {
                year -= 100;
            } else if (year <= nowYear - 50) {
                year += 100; // 1994's "44" is 2044, not more than 50 years ahead
            }
            return of(m.group(1).substring(0, 3), year, m.group(3), m.group(2), m.group(5), m.group(6), m.group(7));
        }
        m = ASCTIME.matcher(t);
        if (m.matches()) {
            return of(m.group(1), Integer.parseInt(m.group(7)), m.group(2), m.group(3).trim(), m.group(4), m.group(5), m.group(6));
        }
        return Long.MIN_VALUE;
    }

    private static long of(String weekday, int year, String month, String day, String hour, String minute, String second) {
        int monthIndex = List.of(MONTHS).indexOf(month);
        if (monthIndex < 0) {
            return Long.MIN_VALUE;
        }
        try {
            java.time.LocalDateTime at = java.time.LocalDateTime.of(year, monthIndex + 1, Integer.parseInt(day),
                    Integer.parseInt(hour), Integer.parseInt(minute), Integer.parseInt(second));
            if (!at.getDayOfWeek().getDisplayName(java.time.format.TextStyle.SHORT, Locale.US).equals(weekday)) {
                return Long.MIN_VALUE;
            }
            return at.toEpochSecond(ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            return Long.MIN_VALUE;
        }
    }
}
