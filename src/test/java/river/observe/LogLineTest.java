package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The encoder every access-log and JSON application-log line is written with. */
class LogLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] DASH = LogLine.ascii("-");
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @ParameterizedTest
    @CsvSource({"0", "7", "10", "99", "100", "65535", "-1", "-1234567", "9223372036854775807", "-9223372036854775808"})
    void numbersAreWrittenAsDecimals(long n) {
        assertThat(new LogLine().number(n).toString()).isEqualTo(Long.toString(n));
    }

    @ParameterizedTest
    @CsvSource({"-1, -", "0, 0.000", "999, 0.000", "1000, 0.001", "12345678, 12.345", "1500000000, 1500.000", "1050000, 1.050",
            "100000, 0.100", "99999999999, 99999.999"})
    void millisecondsAreWrittenWithThreeDecimals(long nanos, String expected) {
        assertThat(new LogLine().millis(nanos, DASH).toString()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 999L, 1000L, 951782400123L /* 2000-02-29 */, 1764772540007L, 4102444799999L /* 2099-12-31T23:59:59.999 */,
            -1L /* 1969-12-31T23:59:59.999 */})
    void timestampsAreIso8601InUtcWithMilliseconds(long millis) {
        assertThat(new LogLine().timestamp(millis).toString()).isEqualTo(ISO.format(Instant.ofEpochMilli(millis)));
    }

    @Test
    void theCachedSecondFollowsTheClockBothWays() {
        LogLine line = new LogLine();
        long[] times = {1764772540007L, 1764772540999L, 1764772541000L, 1764772539500L, 1764772541000L + 86_400_000L};
        for (long t : times) {
            assertThat(line.reset().timestamp(t).toString()).isEqualTo(ISO.format(Instant.ofEpochMilli(t)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/plain", "", "quote\"in", "back\\slash", "new\nline", "cr\rtab\t", "\u0000\u0001\u001f\u007f", "\b\f",
            "café", "日本語", "emoji \uD83D\uDE00", "lone \uD800 surrogate", "</script>", "a b"})
    void jsonStringsParseBackToTheSameTextAndStayOneAsciiLine(String s) throws Exception {
        String encoded = new LogLine().jsonString(s).toString();
        assertThat(JSON.readValue(encoded, String.class)).isEqualTo(s);
        assertThat(encoded.chars()).allMatch(c -> c >= 0x20 && c < 0x7f);
    }

    @Test
    void jsonEscapesAreTheShortOnesWhereJsonHasThem() {
        assertThat(new LogLine().jsonString("\"\\\n\r\t\b\f\u0001é").toString()).isEqualTo("\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u00e9\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/caf\u00c3\u00a9|/café", // UTF-8 é as two bytes
            "/\u00e6\u0097\u00a5|/日", // three bytes
            "/\u00f0\u009f\u0098\u0080|/\uD83D\uDE00", // four bytes: a surrogate pair
            "/bad\u00c3|/bad\u00c3", // a lead byte at the end stays a byte
            "/bad\u00c3x|/bad\u00c3x", // a lead byte without its continuation
            "/over\u00c0\u00af|/over\u00c0\u00af", // an overlong '/' is not decoded
            "/sur\u00ed\u00a0\u0080|/sur\u00ed\u00a0\u0080", // an encoded surrogate is not decoded
            "/latin\u00e9|/latin\u00e9"}) // a byte that starts no sequence
    void wireTextIsReadAsUtf8WhereItIsUtf8(String received, String logged) throws Exception {
        assertThat(JSON.readValue(new LogLine().jsonWireString(received).toString(), String.class)).isEqualTo(logged);
        assertThat(new LogLine().textWireValue(received).toString()).isEqualTo(new LogLine().textValue(logged).toString());
    }

    @Test
    void textValuesNeverSplitALineOrAField() {
        assertThat(new LogLine().textValue("/a b\nc=\"d\"").toString()).isEqualTo("/a\\u0020b\\nc=\\\"d\\\"");
        assertThat(new LogLine().textValue("").toString()).isEqualTo("-");
    }

    @Test
    void aLineLongerThanTheBufferGrowsIt() throws Exception {
        String longPath = "/" + "é\"x".repeat(2000);
        LogLine line = new LogLine().raw('[').jsonString(longPath).raw(',').number(42).raw(']');
        assertThat(JSON.readTree(line.toString()).get(0).asText()).isEqualTo(longPath);
        assertThat(JSON.readTree(line.copy()).get(1).asLong()).isEqualTo(42);
    }
}
