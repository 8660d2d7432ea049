package river.modules.normalize;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the path normalizer (Jazzer): whatever the path and whichever checks are
 * on, a result is a fixed point (normalizing it again changes nothing), and with dot segments on no
 * ".." segment survives and an absolute path stays absolute. Regression inputs live in
 * {@code PathNormalizerFuzzTestInputs/}; {@code mvn -Pfuzz} fuzzes (see docs/hardening.md).
 */
class PathNormalizerFuzzTest {
    @FuzzTest(maxDuration = "5s")
    void normalizedPathsAreFixedPointsInsideTheRoot(FuzzedDataProvider data) {
        PathNormalizer normalizer = new PathNormalizer(data.consumeBoolean(), data.consumeBoolean(), data.consumeBoolean(),
                data.consumeBoolean(), data.consumeBoolean());
        boolean dotSegments = data.consumeBoolean();
        // Request targets reach River as bytes read as ISO-8859-1: anything else is not a path it sees.
        String path = "/" + new String(data.consumeRemainingAsBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        check(dotSegments ? new PathNormalizer(true, true, true, true, true) : normalizer, path, dotSegments);
    }

    private static void check(PathNormalizer normalizer, String path, boolean allChecks) {
        PathNormalizer.Result once = normalizer.normalize(path);
        assertThat(once.path() == null).as("path xor problem for %s", path).isNotEqualTo(once.problem() == null);
        if (once.path() == null) {
            return;
        }
        PathNormalizer.Result twice = normalizer.normalize(once.path());
        assertThat(twice.problem()).as("normalizing %s again", once.path()).isNull();
        assertThat(twice.path()).as("normalize(normalize(%s))", path).isEqualTo(once.path());
        if (allChecks) {
            assertThat(once.path()).as("normalized %s", path).startsWith("/");
            for (String segment : once.path().split("/", -1)) {
                assertThat(segment).as("a segment of %s normalized from %s", once.path(), path).isNotIn("..", ".");
            }
        }
    }
}
