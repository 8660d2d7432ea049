package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing (Jazzer) of the TOML configuration reader (Jackson's TOML parser, then
 * River's model and validation): any text either becomes a configuration or fails with
 * {@link ConfigException}, every error naming the file and a 1-based line and column; no other
 * exception escapes. Regression inputs: {@code TomlConfigFuzzTestInputs/}.
 */
class TomlConfigFuzzTest {
    private static final ConfigLoader LOADER = new ConfigLoader(Path.of("/nonexistent/river-fuzz"));

    @FuzzTest(maxDuration = "5s")
    void anyTextIsAConfigurationOrLocatedErrors(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        try {
            assertThat(LOADER.parse(text, "fuzz.toml", ConfigFormat.TOML, SystemOverrides.none())).isNotNull();
        } catch (ConfigException e) {
            assertThat(e.errors()).isNotEmpty();
            for (ConfigError error : e.errors()) {
                assertThat(error.file()).isEqualTo("fuzz.toml");
                assertThat(error.line()).as("line of %s", error).isPositive();
                assertThat(error.column()).as("column of %s", error).isPositive();
                assertThat(error.message()).isNotBlank();
            }
        }
    }
}
