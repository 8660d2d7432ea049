package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/** TLS to connectors: SNI, verification against a configured CA, refusal of what does not verify. */
class UpstreamTlsTest {
    @TempDir
    static Path dir;
    static TestOrigin origin;
    /** The connector property trusting the test CA that signed the origin's certificate. */
    static String ca;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin(TestPki.server("origin.test").serverContext());
        ca = "ca-path=\"" + TestPki.caCertificate() + "\"";
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
        assertThat(status("tls-sni=\"origin.test\" " + ca)).isEqualTo(200);
        assertThat(origin.requestsReceived()).isEqualTo(before + 1);
    }

    @Test
    void certificateThatDoesNotVerifyGives502AndNothingIsSent() throws Exception {
        int before = origin.requestsReceived();
        assertThat(status("tls-sni=\"origin.test\"")).as("not signed by a trusted root").isEqualTo(502);
        assertThat(status("tls-sni=\"other.test\" " + ca)).as("name mismatch").isEqualTo(502);
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void verificationCanBeTurnedOffExplicitly() throws Exception {
        assertThat(status("tls-sni=\"other.test\" tls-verify=false")).isEqualTo(200);
    }
}
