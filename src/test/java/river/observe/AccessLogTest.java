package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccessLogTest {
    @ParameterizedTest
    @CsvSource({"-1, -", "0, 0.000", "999, 0.000", "1000, 0.001", "12345678, 12.345", "1500000000, 1500.000", "1050000, 1.050"})
    void millisecondsAreWrittenWithThreeDecimals(long nanos, String expected) {
        StringBuilder line = new StringBuilder();
        AccessLog.millis(line, nanos);
        assertThat(line.toString()).isEqualTo(expected);
    }
}
