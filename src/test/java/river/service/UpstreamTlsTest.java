package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** TLS to connectors: SNI, verification against a configured CA, refusal of what does not verify. */
class UpstreamTlsTest {
    @TempDir
    static Path dir;
    static TestOrigin origin;

    @BeforeAll
    static void start() throws Exception {
        Process gen = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "2", "-subj", "/CN=origin.test", "-addext", "subjectAltName=DNS:origin.test",
                "-keyout", dir.resolve("origin.key").toString(), "-out", dir.resolve("origin.crt").toString())
                .redirectErrorStream(true).start();
        assertThat(gen.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(gen.exitValue()).isZero();
        origin = new TestOrigin(SslContextBuilder.forServer(dir.resolve("origin.crt").toFile(), dir.resolve("origin.key").toFile()).build());
    }

    @AfterAll
    static void stop() {
        origin.close();
    }

    private static int status(String connectorProperties) throws Exception {
        String kdl = RiverHarness.proxyConfig(1, "", origin.address())
                .replace("\"" + origin.address() + "\"", "\"" + origin.address() + "\" " + connectorProperties);
        try (RiverHarness river = RiverHarness.start(kdl, dir); RawHttp raw = new RawHttp(river.port("proxy"))) {
            raw.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
            return raw.read().status();
        }
    }

    @Test
    void verifiedTlsToTheOriginWithAConfiguredCa() throws Exception {
        int before = origin.requestsReceived();
        assertThat(status("tls-sni=\"origin.test\" ca-path=\"origin.crt\"")).isEqualTo(200);
        assertThat(origin.requestsReceived()).isEqualTo(before + 1);
    }

    @Test
    void certificateThatDoesNotVerifyGives502AndNothingIsSent() throws Exception {
        int before = origin.requestsReceived();
        assertThat(status("tls-sni=\"origin.test\"")).as("not signed by a trusted root").isEqualTo(502);
        assertThat(status("tls-sni=\"other.test\" ca-path=\"origin.crt\"")).as("name mismatch").isEqualTo(502);
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void verificationCanBeTurnedOffExplicitly() throws Exception {
        assertThat(status("tls-sni=\"other.test\" tls-verify=false")).isEqualTo(200);
    }
}
