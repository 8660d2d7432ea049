package river.kdl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs the official KDL test suites (copied into test resources) against River's parser. */
class KdlConformanceTest {

    static Stream<Arguments> v1Cases() throws Exception {
        return cases("v1");
    }

    static Stream<Arguments> v2Cases() throws Exception {
        return cases("v2");
    }

    private static Stream<Arguments> cases(String version) throws IOException, URISyntaxException {
        Path root = Path.of(KdlConformanceTest.class.getResource("/kdl-tests/" + version + "/tests/test_cases").toURI());
        Path inputs = root.resolve("input");
        try (Stream<Path> files = Files.list(inputs)) {
            return files.sorted()
                    .map(input -> {
                        Path expected = root.resolve("expected_kdl").resolve(input.getFileName());
                        return Arguments.of(input.getFileName().toString(), input, Files.exists(expected) ? expected : null);
                    })
                    .toList()
                    .stream();
        }
    }

    @ParameterizedTest(name = "v1 {0}")
    @MethodSource("v1Cases")
    void v1SuiteCase(String name, Path input, Path expected) throws Exception {
        check(KdlVersion.V1, input, expected);
    }

    @ParameterizedTest(name = "v2 {0}")
    @MethodSource("v2Cases")
    void v2SuiteCase(String name, Path input, Path expected) throws Exception {
        check(KdlVersion.V2, input, expected);
    }

    private static void check(KdlVersion version, Path input, Path expected) throws Exception {
        String text = Files.readString(input, StandardCharsets.UTF_8);
        if (expected == null) {
            assertThatThrownBy(() -> KdlParser.parse(text, version))
                    .isInstanceOf(KdlParseException.class)
                    .satisfies(e -> assertThat(((KdlParseException) e).position().line()).isPositive());
            return;
        }
        String want = Files.readString(expected, StandardCharsets.UTF_8);
        String got = KdlPrinter.canonical(KdlParser.parse(text, version));
        assertThat(stripTrailingNewlines(got)).isEqualTo(stripTrailingNewlines(want));
    }

    private static String stripTrailingNewlines(String s) {
        return s.replaceAll("\n+$", "");
    }
}
