package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing (Jazzer) of the HTTP/1 request-head parser: River's strict decoder, the
 * framing checks and the connection handler, on an embedded channel. Whatever the bytes, River either
 * forwards a well-formed request or answers with one of its documented refusals (400, 414, 431, 417,
 * 505) and closes; no exception escapes or is merely logged, no buffer leaks, and splitting the same
 * bytes into several reads changes nothing. Regression inputs: {@code StrictRequestDecoderFuzzTestInputs/}.
 */
class StrictRequestDecoderFuzzTest {
    private static final Pattern STATUS = Pattern.compile("(?m)^HTTP/1\\.1 (\\d{3}) ");
    private static final Pattern DATE = Pattern.compile("(?mi)^date: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");

    @FuzzTest(maxDuration = "5s")
    void everyRequestHeadIsForwardedWellFormedOrRefused(byte[] input) {
        Http1Fuzzing.Outcome whole = Http1Fuzzing.run(List.of(input));
        assertAnswersAreDocumented(whole.written());
        int a = input.length / 3;
        int b = 2 * input.length / 3;
        Http1Fuzzing.Outcome split = Http1Fuzzing.run(List.of(Arrays.copyOfRange(input, 0, a), Arrays.copyOfRange(input, a, b),
                Arrays.copyOfRange(input, b, input.length)));
        assertThat(split.forwarded()).as("requests forwarded when read in three pieces").hasSameSizeAs(whole.forwarded());
        // The two runs may straddle a second: the Date lines are compared for their form, not their second.
        assertThat(DATE.matcher(split.written()).replaceAll("date: <second>")).as("answers when read in three pieces")
                .isEqualTo(DATE.matcher(whole.written()).replaceAll("date: <second>"));
        assertThat(split.open()).isEqualTo(whole.open());
    }

    static void assertAnswersAreDocumented(String written) {
        Matcher m = STATUS.matcher(written);
        while (m.find()) {
            assertThat(Integer.parseInt(m.group(1))).as("a status River answers with itself").isIn(200, 400, 413, 414, 417, 431, 505);
        }
        if (!written.isEmpty()) {
            assertThat(written).startsWith("HTTP/1.1 ");
        }
    }
}
