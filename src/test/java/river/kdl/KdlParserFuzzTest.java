package river.kdl;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing (Jazzer) of the KDL parser, as version-detecting, v1 and v2 parses: any text
 * either parses or fails with {@link KdlParseException} at a position inside the text (1-based line
 * and column, the line no later than the text's last); nothing else is ever thrown. Regression inputs:
 * {@code KdlParserFuzzTestInputs/}.
 */
class KdlParserFuzzTest {
    @FuzzTest(maxDuration = "5s")
    void anyTextParsesOrFailsWithALocatedParseError(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        parseOrLocatedError(text, null);
        parseOrLocatedError(text, KdlVersion.V1);
        parseOrLocatedError(text, KdlVersion.V2);
    }

    private static void parseOrLocatedError(String text, KdlVersion version) {
        try {
            KdlDocument document = version == null ? KdlParser.parse(text) : KdlParser.parse(text, version);
            assertThat(document).isNotNull();
        } catch (KdlParseException e) {
            assertThat(e.position().line()).as("line of %s", e.getMessage()).isBetween(1, lines(text));
            assertThat(e.position().column()).as("column of %s", e.getMessage()).isPositive();
            assertThat(e.reason()).isNotBlank();
        }
    }

    /** Lines as KDL counts them at most: every newline character it knows may end one. */
    private static int lines(String text) {
        int lines = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u000B' || c == '\u000C' || c == '\u2028' || c == '\u2029') {
                lines++;
            }
        }
        return lines;
    }
}
