package river.observe;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * A growable byte buffer one thread reuses for every log line it writes, with the appends a log line
 * needs and nothing that allocates per call: pre-encoded ASCII, decimal numbers, milliseconds with
 * three decimals, an ISO-8601 UTC timestamp (the formatted second is cached; only the milliseconds
 * change within it), and strings escaped for JSON or for a key=value line.
 *
 * <p>Escaping keeps every line one line of ASCII: {@code "} and {@code \} are backslash-escaped, the
 * control characters {@code \n \r \t \b \f} get their short escapes, every other character below
 * U+0020, U+007F and every non-ASCII character (each UTF-16 unit) becomes {@code \}{@code uXXXX}, which
 * JSON parsers turn back into the character. Text values escape the space too, so that a value never
 * splits into two fields.
 */
public final class LogLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int SECOND_LENGTH = 19; // 2026-12-03T14:55:40

    private byte[] bytes = new byte[512];
    private int length;
    private long cachedSecond = Long.MIN_VALUE;
    private final byte[] second = new byte[SECOND_LENGTH];

    /** Bytes of an ASCII literal, for field names encoded once. */
    public static byte[] ascii(String literal) {
        return literal.getBytes(StandardCharsets.US_ASCII);
    }

    public LogLine reset() {
        length = 0;
        return this;
    }

    public byte[] array() {
        return bytes;
    }

    public int length() {
        return length;
    }

    /** A copy of the line's bytes (what is handed to another thread). */
    public byte[] copy() {
        return Arrays.copyOf(bytes, length);
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    public LogLine raw(byte[] ascii) {
        ensure(ascii.length);
        System.arraycopy(ascii, 0, bytes, length, ascii.length);
        length += ascii.length;
        return this;
    }

    public LogLine raw(char c) {
        ensure(1);
        bytes[length++] = (byte) c;
        return this;
    }

    /** A decimal integer, with a minus sign if negative. */
    public LogLine number(long value) {
        if (value == Long.MIN_VALUE) {
            return raw(ascii(Long.toString(value)));
        }
        ensure(20);
        if (value < 0) {
            bytes[length++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        int end = length + digits;
        for (int i = end - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length = end;
        return this;
    }

    /** Nanoseconds as milliseconds with three decimals (12345678 → 12.345); negative means unknown: {@code unknown} instead. */
    public LogLine millis(long nanos, byte[] unknown) {
        if (nanos < 0) {
            return raw(unknown);
        }
        long micros = nanos / 1000;
        number(micros / 1000);
        ensure(4);
        long fraction = micros % 1000;
        bytes[length++] = '.';
        bytes[length++] = (byte) ('0' + fraction / 100);
        bytes[length++] = (byte) ('0' + fraction / 10 % 10);
        bytes[length++] = (byte) ('0' + fraction % 10);
        return this;
    }

    /** An instant as ISO-8601 in UTC with milliseconds: {@code 2026-12-03T14:55:40.123Z}. */
    public LogLine timestamp(long epochMillis) {
        long secondOf = Math.floorDiv(epochMillis, 1000);
        if (secondOf != cachedSecond) {
            LocalDateTime t = LocalDateTime.ofEpochSecond(secondOf, 0, ZoneOffset.UTC);
            int y = t.getYear();
            put4(second, 0, y);
            second[4] = '-';
            put2(second, 5, t.getMonthValue());
            second[7] = '-';
            put2(second, 8, t.getDayOfMonth());
            second[10] = 'T';
            put2(second, 11, t.getHour());
            second[13] = ':';
            put2(second, 14, t.getMinute());
            second[16] = ':';
            put2(second, 17, t.getSecond());
            cachedSecond = secondOf;
        }
        ensure(SECOND_LENGTH + 5);
        System.arraycopy(second, 0, bytes, length, SECOND_LENGTH);
        length += SECOND_LENGTH;
        int ms = (int) Math.floorMod(epochMillis, 1000);
        bytes[length++] = '.';
        bytes[length++] = (byte) ('0' + ms / 100);
        bytes[length++] = (byte) ('0' + ms / 10 % 10);
        bytes[length++] = (byte) ('0' + ms % 10);
        bytes[length++] = 'Z';
        return this;
    }

    private static void put2(byte[] b, int at, int v) {
        b[at] = (byte) ('0' + v / 10);
        b[at + 1] = (byte) ('0' + v % 10);
    }

    private static void put4(byte[] b, int at, int v) {
        b[at] = (byte) ('0' + v / 1000 % 10);
        b[at + 1] = (byte) ('0' + v / 100 % 10);
        put2(b, at + 2, v % 100);
    }

    /** A JSON string, quotes included. */
    public LogLine jsonString(CharSequence s) {
        raw('"');
        escaped(s, false, false);
        return raw('"');
    }

    /**
     * A JSON string of text read off the wire, where each character below U+0100 is one byte as
     * received (HTTP heads are decoded as ISO-8859-1): bytes that form UTF-8 are written as the
     * characters they encode ({@code caf\u00c3\u00a9} → {@code caf\u00e9}), any other byte as itself.
     */
    public LogLine jsonWireString(CharSequence s) {
        raw('"');
        escaped(s, false, true);
        return raw('"');
    }

    /** A key=value line's value: escaped like JSON, unquoted, with the space escaped too; empty as {@code -}. */
    public LogLine textValue(CharSequence s) {
        return textValue(s, false);
    }

    /** {@link #textValue(CharSequence)} of text read off the wire (see {@link #jsonWireString}). */
    public LogLine textWireValue(CharSequence s) {
        return textValue(s, true);
    }

    private LogLine textValue(CharSequence s, boolean wire) {
        if (s.length() == 0) {
            return raw('-');
        }
        return escaped(s, true, wire);
    }

    /** The code point of the UTF-8 sequence of byte-chars at {@code i}, its length in the top bits; -1 if none. */
    private static long utf8At(CharSequence s, int i) {
        int b0 = s.charAt(i);
        int need;
        int cp;
        if (b0 >= 0xc2 && b0 <= 0xdf) {
            need = 1;
            cp = b0 & 0x1f;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
            need = 2;
            cp = b0 & 0x0f;
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
            need = 3;
            cp = b0 & 0x07;
        } else {
            return -1;
        }
        if (i + need >= s.length()) {
            return -1;
        }
        for (int k = 1; k <= need; k++) {
            int b = s.charAt(i + k);
            if (b < 0x80 || b > 0xbf) {
                return -1;
            }
            cp = (cp << 6) | (b & 0x3f);
        }
        boolean overlong = (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return -1;
        }
        return ((long) (need + 1) << 32) | cp;
    }

    private void unicodeEscape(int c) {
        ensure(6);
        bytes[length++] = '\\';
        bytes[length++] = 'u';
        bytes[length++] = HEX[(c >> 12) & 0xf];
        bytes[length++] = HEX[(c >> 8) & 0xf];
        bytes[length++] = HEX[(c >> 4) & 0xf];
        bytes[length++] = HEX[c & 0xf];
    }

    private LogLine escaped(CharSequence s, boolean escapeSpace, boolean wire) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
                if (length == bytes.length) {
                    ensure(n - i);
                }
                bytes[length++] = (byte) c;
                continue;
            }
            if (c == ' ' && !escapeSpace) {
                raw(' ');
                continue;
            }
            if (wire && c >= 0xc2 && c <= 0xf4) {
                long seq = utf8At(s, i);
                if (seq >= 0) {
                    int cp = (int) seq;
                    if (cp >= 0x10000) {
                        unicodeEscape(Character.highSurrogate(cp));
                        unicodeEscape(Character.lowSurrogate(cp));
                    } else {
                        unicodeEscape(cp);
                    }
                    i += (int) (seq >>> 32) - 1;
                    continue;
                }
            }
            ensure(6);
            bytes[length++] = '\\';
            switch (c) {
                case '"' -> bytes[length++] = '"';
                case '\\' -> bytes[length++] = '\\';
                case '\n' -> bytes[length++] = 'n';
                case '\r' -> bytes[length++] = 'r';
                case '\t' -> bytes[length++] = 't';
                case '\b' -> bytes[length++] = 'b';
                case '\f' -> bytes[length++] = 'f';
                default -> {
                    length--;
                    unicodeEscape(c);
                }
            }
        }
        return this;
    }
}
