package river.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code store-redis} in the acme section (fleet mode, River's extension): values, defaults, located errors. */
class AcmeFleetConfigTest {
    private static final String SERVICE = "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
            + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n";

    /** The section with {@code line} as its third line (line 4 of the file). */
    private static RiverConfig parse(String line) throws ConfigException {
        return new ConfigLoader(Path.of("")).parse("acme {\n    accept-terms-of-service true\n    store-dir \"/var/lib/river/acme\"\n    "
                + line + "\n}\n" + SERVICE, "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static ConfigError error(String line) {
        try {
            parse(line);
        } catch (ConfigException e) {
            assertThat(e.errors()).hasSize(1);
            return e.errors().get(0);
        }
        throw new AssertionError("no error for " + line);
    }

    @Test
    void storeRedisWithItsPrefixOrTheDefaultOne() throws ConfigException {
        assertThat(parse("store-redis \"redis://10.0.0.5:6379/2\" key-prefix=\"edge:acme\"").acme().orElseThrow().storeRedis())
                .contains(new AcmeConfig.RedisStore("redis://10.0.0.5:6379/2", "edge:acme"));
        assertThat(parse("store-redis \"rediss://:secret@redis.internal\"").acme().orElseThrow().storeRedis())
                .contains(new AcmeConfig.RedisStore("rediss://:secret@redis.internal", "river:acme"));
        assertThat(parse("contact \"mailto:ops@example.com\"").acme().orElseThrow().storeRedis()).isEqualTo(Optional.empty());
    }

    @Test
    void badValuesAreLocated() {
        assertThat(error("store-redis \"http://10.0.0.5:6379\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.column()).isEqualTo(17);
            assertThat(e.message()).contains("redis:// or rediss://", "\"http://10.0.0.5:6379\"");
        });
        assertThat(error("store-redis \"redis:///0\"").message()).contains("needs a host");
        assertThat(error("store-redis \"redis://h:6379/cache\"").message()).contains("the path must be a database number");
        assertThat(error("store-redis \"redis://h: 6379\"").message()).contains("expects a redis:// URL");
        assertThat(error("store-redis \"redis://h\" key-prefix=\"\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.message()).contains("key-prefix must be non-empty");
        });
        assertThat(error("store-redis \"redis://h\" db=1").message()).contains("db");
        assertThat(error("store-redis").message()).contains("store-redis expects exactly one value");
        assertThatThrownBy(() -> parse("store-redis \"redis://a\"\n    store-redis \"redis://b\"")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("store-redis");
    }
}
