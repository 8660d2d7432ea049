package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code compression} node of a service: defaults, values, and a located error for each wrong one. */
class CompressionConfigTest {
    @TempDir
    static Path dir;

    private static final String HEAD = "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
            + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n";

    private static RiverConfig parse(String compression) throws ConfigException {
        return new ConfigLoader(dir).parse(HEAD + compression + "\n  }\n}\n", "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static ConfigError error(String compression) {
        try {
            parse(compression);
        } catch (ConfigException e) {
            assertThat(e.errors()).hasSize(1);
            return e.errors().get(0);
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    @Test
    void offByDefault() throws ConfigException {
        CompressionConfig c = parse("").services().get(0).compression();
        assertThat(c).isEqualTo(CompressionConfig.defaults());
        assertThat(c.enabled()).isFalse();
        assertThat(c.types()).contains("text/*", "application/json", "image/svg+xml");
    }

    @Test
    void valuesAreRead() throws ConfigException {
        CompressionConfig c = parse("""
                    compression {
                        enabled true
                        algorithms "gzip, zstd"
                        min-size 0
                        types "text/html" "application/*" "+json"
                        level-gzip 9
                        level-br 11
                        level-zstd 19
                    }""").services().get(0).compression();
        assertThat(c).isEqualTo(new CompressionConfig(true, List.of("gzip", "zstd"), 0, List.of("text/html", "application/*", "+json"), 9, 11, 19));
    }

    @Test
    void wrongValuesAreLocated() {
        ConfigError e = error("    compression {\n      algorithms \"br,deflate\"\n    }");
        assertThat(e.line()).isEqualTo(10);
        assertThat(e.column()).isEqualTo(18);
        assertThat(e.message()).contains("unknown compression algorithm \"deflate\"");

        e = error("    compression {\n      level-gzip 12\n    }");
        assertThat(e.line()).isEqualTo(10);
        assertThat(e.message()).contains("level-gzip must be from 1 to 9, found 12");

        e = error("    compression {\n      types \"text\"\n    }");
        assertThat(e.line()).isEqualTo(10);
        assertThat(e.message()).contains("\"text\" is not a media type");

        e = error("    compression {\n      enabled \"yes\"\n    }");
        assertThat(e.message()).contains("enabled expects true or false");

        e = error("    compression {\n      gzip true\n    }");
        assertThat(e.line()).isEqualTo(10);
        assertThat(e.message()).contains("unknown node \"gzip\" in compression", "min-size");
    }
}
