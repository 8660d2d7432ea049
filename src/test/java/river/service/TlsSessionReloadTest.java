package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.OpenSsl;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.testsupport.RiverHarness;
import river.testsupport.SClient;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * A service's session tickets in the real River: one ticket resumes on each of the service's TLS
 * listeners, a reload that leaves {@code tls-sessions} alone keeps the keys, and one that turns
 * resumption off is obeyed by the next handshake.
 */
class TlsSessionReloadTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificate() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "BoringSSL (netty-tcnative) is needed");
        TestPki.server("localhost", "localhost").copyTo(dir, "test");
    }

    private static int secondPort;

    private static String kdl(TestOrigin origin, String extra) throws Exception {
        if (secondPort == 0) {
            secondPort = river.testsupport.Ports.free();
        }
        return """
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                            "127.0.0.1:%d" cert-path="test.crt" key-path="test.key"
                        }
                        connectors {
                            "%s"
                        }
                        %s
                    }
                }
                """.formatted(secondPort, origin.address(), extra);
    }

    private static RiverConfig parse(String kdl) throws Exception {
        return new ConfigLoader(dir).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    @Test
    void aTicketResumesOnEveryListenerOfTheServiceAndAcrossAReloadUntilResumptionIsTurnedOff() throws Exception {
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(kdl(origin, ""), dir)) {
            int first = river.port("proxy");
            Path session = dir.resolve("session");
            assertThat(SClient.resumed(first, "-tls1_3", null, session)).isFalse();
            assertThat(SClient.resumed(first, "-tls1_3", session, null)).as("same listener").isTrue();
            assertThat(SClient.resumed(secondPort, "-tls1_3", session, null)).as("the service's other listener").isTrue();

            assertThat(river.server().reload(parse(kdl(origin, "timeouts connect-ms=2000"))).ok()).isTrue();
            assertThat(SClient.resumed(first, "-tls1_3", session, null)).as("after a reload keeping tls-sessions").isTrue();

            assertThat(river.server().reload(parse(kdl(origin, "tls-sessions tickets=false cache-size=0"))).ok()).isTrue();
            assertThat(SClient.resumed(first, "-tls1_3", session, null)).as("resumption off").isFalse();
            Path none = dir.resolve("none");
            assertThat(SClient.resumed(first, "-tls1_2", null, none)).isFalse();
            assertThat(SClient.resumed(first, "-tls1_2", none, null)).as("TLS 1.2, resumption off").isFalse();
        }
    }
}
