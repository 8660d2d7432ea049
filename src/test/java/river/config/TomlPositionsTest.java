package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Where {@link TomlPositions} finds keys and values: past multi-line strings, quoted and dotted keys, nested arrays of tables. */
class TomlPositionsTest {
    private static final String TEXT = """
            # comment with "quotes" and [brackets]
            [system.log]
            output = '''
            not = "a key"
            '''
            "quoted.key" = "x" # trailing
            a.b = "é"
            [[basic-proxy]]
            name = "one"
            [[basic-proxy.plugins]]
            path = "a"
            [[basic-proxy]]
            name = "two"
            [[basic-proxy.plugins]]
            path = "b"
            [[basic-proxy.plugins]]
            list = [ 1, [ 2, 3 ], { k = "v" } ]
            """;

    private static String at(Problems.Where w) {
        return w.line() + ":" + w.column();
    }

    @Test
    void keysAndValuesAreFoundWhereTheyAreWritten() throws Exception {
        assertThat(new com.fasterxml.jackson.dataformat.toml.TomlMapper().readTree(TEXT).at("/basic-proxy/1/plugins/1/list/2/k").asText())
                .as("the text is TOML").isEqualTo("v");
        TomlPositions p = TomlPositions.of(TEXT);
        assertThat(at(p.key(List.of("system", "log")))).isEqualTo("2:1");
        assertThat(at(p.value(List.of("system", "log", "output")))).isEqualTo("3:10");
        assertThat(at(p.key(List.of("system", "log", "quoted.key")))).isEqualTo("6:1");
        assertThat(at(p.value(List.of("system", "log", "quoted.key")))).isEqualTo("6:16");
        assertThat(at(p.key(List.of("system", "log", "a", "b")))).isEqualTo("7:1");
        assertThat(at(p.value(List.of("basic-proxy", 1, "plugins", 0, "path")))).isEqualTo("15:8");
        assertThat(at(p.value(List.of("basic-proxy", 1, "plugins", 1, "list", 1, 1)))).isEqualTo("17:18");
        assertThat(at(p.value(List.of("basic-proxy", 1, "plugins", 1, "list", 2, "k")))).isEqualTo("17:29");
        assertThat(at(p.key(List.of("basic-proxy", 1, "plugins", 1, "missing"))))
                .as("the nearest recorded ancestor").isEqualTo("16:1");
        assertThat(at(p.key(List.of("nothing")))).isEqualTo("1:1");
    }
}
