package river.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** HTTP dates (RFC 9110 §5.6.7): IMF-fixdate written, and all three forms parsed. */
class HttpDateTest {
    /** RFC 9110's example instant, Sun, 06 Nov 1994 08:49:37 GMT. */
    private static final long EXAMPLE = Instant.parse("1994-11-06T08:49:37Z").getEpochSecond();
    private static final long NOW = Instant.parse("2026-12-03T18:00:00Z").getEpochSecond();

    @Test
    void theThreeFormsOfTheSameInstantParseAlike() {
        assertThat(HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).isEqualTo(EXAMPLE);
        assertThat(HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", Instant.parse("2000-01-01T00:00:00Z").getEpochSecond()))
                .isEqualTo(EXAMPLE);
        assertThat(HttpDate.parse("Sun Nov  6 08:49:37 1994", NOW)).isEqualTo(EXAMPLE);
        assertThat(HttpDate.parse("Thu Nov 26 08:49:37 1998", NOW)).isEqualTo(Instant.parse("1998-11-26T08:49:37Z").getEpochSecond());
        assertThat(HttpDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT ", NOW)).as("surrounding space").isEqualTo(EXAMPLE);
    }

    @Test
    void anRfc850YearIsNeverMoreThanFiftyYearsAhead() {
        // In 2026: "76" is 2076 (50 years ahead, allowed); "77" would be 2077, so it is 1977.
        assertThat(HttpDate.parse("Saturday, 07-Nov-76 00:00:00 GMT", NOW)).isEqualTo(Instant.parse("2076-11-07T00:00:00Z").getEpochSecond());
        assertThat(HttpDate.parse("Monday, 07-Nov-77 00:00:00 GMT", NOW)).isEqualTo(Instant.parse("1977-11-07T00:00:00Z").getEpochSecond());
        assertThat(HttpDate.parse("Thursday, 03-Dec-26 18:00:00 GMT", NOW)).isEqualTo(NOW);
        // In 1994, "94" is 1994 and "44" is 2044.
        long in1994 = EXAMPLE;
        assertThat(HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", in1994)).isEqualTo(EXAMPLE);
        assertThat(HttpDate.parse("Sunday, 06-Nov-44 08:49:37 GMT", in1994)).isEqualTo(Instant.parse("2044-11-06T08:49:37Z").getEpochSecond());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Mon, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT", "Monday, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06-Xyz-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Mon Nov  6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sunday Nov  6 08:49:37 1994",
        "1994-11-06T08:49:37Z"})
    void whatIsNotADateOfTheRightDayIsRejected(String text) {
        assertThat(HttpDate.parse(text, NOW)).as(text).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void formattingIsImfFixdate() {
        assertThat(HttpDate.format(EXAMPLE)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(HttpDate.parse(HttpDate.format(NOW), NOW)).isEqualTo(NOW);
    }
}
