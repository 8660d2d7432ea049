package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.acme.AcmeClient;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * TLS-ALPN-01 against Pebble: River's own TLS listener (the only one of its service, so the service must accept to be
 * validated) answers the acme-tls/1 handshake with the challenge certificate, then serves the issued one by SNI.
 */
class AcmeTlsAlpnTest {
    private static final List<String> NAMES = List.of("alpn.river-acme.test");

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;
    static int tlsPort;

    @BeforeAll
    static void startPebble() throws Exception {
        tlsPort = Ports.free();
        Files.createDirectories(dir.resolve("pebble"));
        pebble = new Pebble(dir.resolve("pebble"), Ports.free(), tlsPort);
        origin = new TestOrigin();
    }

    @AfterAll
    static void stopPebble() throws Exception {
        origin.close();
        pebble.close();
    }

    @Test
    void aCertificateOverTlsAlpn01ServedByRiver() throws Exception {
        String kdl = pebble.acmeSection(dir.resolve("store"), "  challenge \"tls-alpn-01\"\n")
                + "services {\n  secure {\n    listeners {\n      \"127.0.0.1:" + tlsPort + "\" acme-domains=\"" + NAMES.get(0) + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        try (LogCapture log = LogCapture.of(AcmeClient.class.getName()); RiverHarness river = RiverHarness.start(kdl)) {
            Eventually.await(() -> !river.server().acmeCertificate(NAMES).isEmpty(), 60_000);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("tls-alpn-01 challenge for alpn.river-acme.test is valid"));
            int port = ((InetSocketAddress) river.service("secure").boundAddresses().get(0)).getPort();
            X509Certificate served = TlsClient.leaf(port, NAMES.get(0), pebble.root());
            assertThat(served).isEqualTo(river.server().acmeCertificate(NAMES).get(0));
        }
    }
}
