package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code system { tracing { … } }}: defaults, every option read, and each bad value located. */
class TracingConfigTest {
    private static final String SERVICES = "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
            + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n";

    private static RiverConfig parse(String tracingBody) throws ConfigException {
        return new ConfigLoader(Path.of("")).parse("system {\n  tracing {\n" + tracingBody + "\n  }\n}\n" + SERVICES, "river.kdl", ConfigFormat.KDL,
                SystemOverrides.none());
    }

    /** The one error the tracing body gives; its lines are numbered from 3 (the body's first line). */
    private static ConfigError error(String tracingBody) {
        try {
            parse(tracingBody);
        } catch (ConfigException e) {
            List<ConfigError> errors = e.errors();
            assertThat(errors).hasSize(1);
            assertThat(errors.get(0).file()).isEqualTo("river.kdl");
            return errors.get(0);
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    @Test
    void offByDefaultWithAnOtlpHttpEndpointOnLoopback() throws ConfigException {
        TracingConfig d = parse("").system().observability().tracing();
        assertThat(d).isEqualTo(TracingConfig.DEFAULTS);
        assertThat(d.enabled()).isFalse();
        assertThat(d.endpoint()).isEqualTo(URI.create("http://127.0.0.1:4318/v1/traces"));
        assertThat(d.protocol()).isEqualTo("http/protobuf");
        assertThat(d.samplingRatio()).isEqualTo(1.0);
        assertThat(d.serviceName()).isEqualTo("river");
    }

    @Test
    void everyOptionIsRead() throws ConfigException {
        TracingConfig t = parse("    enabled true\n    endpoint \"https://collector.internal:4318/v1/traces\"\n    protocol \"http/protobuf\"\n"
                + "    sampling-ratio 0.25\n    service-name \"edge\"").system().observability().tracing();
        assertThat(t).isEqualTo(new TracingConfig(true, URI.create("https://collector.internal:4318/v1/traces"), "http/protobuf", 0.25, "edge"));
        assertThat(parse("    sampling-ratio 0").system().observability().tracing().samplingRatio()).isZero();
        assertThat(parse("    sampling-ratio 1").system().observability().tracing().samplingRatio()).isEqualTo(1.0);
    }

    @Test
    void grpcDefaultsToTheCollectorsGrpcPortUnlessAnEndpointIsGiven() throws ConfigException {
        TracingConfig t = parse("    protocol \"grpc\"").system().observability().tracing();
        assertThat(t.protocol()).isEqualTo("grpc");
        assertThat(t.endpoint()).isEqualTo(URI.create("http://127.0.0.1:4317"));
        t = parse("    endpoint \"http://collector:14317\"\n    protocol \"grpc\"").system().observability().tracing();
        assertThat(t.endpoint()).isEqualTo(URI.create("http://collector:14317"));
    }

    @Test
    void badValuesAreLocatedAndExplained() {
        ConfigError e = error("    sampling-ratio 1.5");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.column()).isEqualTo(20);
        assertThat(e.message()).contains("sampling-ratio must be from 0 to 1", "1.5");
        assertThat(error("    sampling-ratio -0.1").message()).contains("from 0 to 1");
        assertThat(error("    sampling-ratio \"half\"").message()).contains("expects a number from 0 to 1", "found a string");
        e = error("    endpoint \"127.0.0.1:4318\"");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.column()).isEqualTo(14);
        assertThat(e.message()).contains("tracing endpoint must be an http:// or https:// URL", "127.0.0.1:4318");
        assertThat(error("    endpoint \"ftp://collector/v1/traces\"").message()).contains("http:// or https://");
        assertThat(error("    protocol \"thrift\"").message()).contains("must be \"http/protobuf\" or \"grpc\"", "thrift");
        assertThat(error("    service-name \"\"").message()).contains("service-name must not be empty");
        assertThat(error("    enabled \"yes\"").message()).contains("tracing enabled expects true or false");
        e = error("    ratio 0.5");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.message()).contains("unknown node \"ratio\"", "sampling-ratio");
        assertThat(error("    enabled true\n    enabled false").message()).contains("enabled");
    }
}
