package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/** Connection-level CIDR filters: a refused peer is closed at accept, before any TLS work. */
class AcceptFilterTest {
    @TempDir
    Path dir;

    @Test
    void aBlockedRangeCostsNoTlsHandshake() throws Exception {
        TestPki.riverTestCertificate().copyTo(dir, "test");
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start("""
                        services {
                            blocked {
                                listeners {
                                    "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                                }
                                connectors {
                                    "%1$s"
                                }
                                connection-filters {
                                    filter kind="block-cidr-range" addrs="127.0.0.0/8"
                                }
                            }
                            allowed {
                                listeners {
                                    "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                                }
                                connectors {
                                    "%1$s"
                                }
                                connection-filters {
                                    filter kind="block-cidr-range" addrs="10.0.0.0/8"
                                    filter kind="allow-cidr-range" addrs="127.0.0.1"
                                }
                            }
                        }
                        """.formatted(origin.address()), dir)) {
            for (int i = 0; i < 20; i++) {
                Process curl = new ProcessBuilder("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                        "https://127.0.0.1:" + river.port("blocked") + "/echo").redirectErrorStream(true).start();
                String code = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(code).isEqualTo("000");
            }
            assertThat(river.service("blocked").connectionsRefused()).isEqualTo(20);
            assertThat(river.server().tlsHandshakesStarted()).as("no handshake for a refused connection").isZero();
            Process curl = new ProcessBuilder("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                    "https://127.0.0.1:" + river.port("allowed") + "/echo").redirectErrorStream(true).start();
            assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("200");
            assertThat(river.server().tlsHandshakesStarted()).isEqualTo(1);
            assertThat(origin.requestsReceived()).isEqualTo(1);
        }
    }
}
