package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.config.TracingConfig;

/** The printed default configuration shows every tracing option at the value River uses without it. */
class DefaultConfigTracingTest {
    @Test
    void printedTracingBlockIsTheDefaults() throws Exception {
        var config = new ConfigLoader(Path.of("")).parse(DefaultConfig.KDL, "default.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(config.system().observability().tracing()).isEqualTo(TracingConfig.DEFAULTS);
        assertThat(DefaultConfig.KDL).contains("tracing {", "endpoint \"http://127.0.0.1:4318/v1/traces\"", "protocol \"http/protobuf\"",
                "sampling-ratio 1.0", "service-name \"river\"");
    }
}
