package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.acme.CertificateManager;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * A renewal that falls due in a running River, with nothing but Pebble and River's own rule: Pebble issues
 * certificates valid one day and {@link #MARGIN} ({@code certificateValidityPeriod}), River renews a day before expiry
 * ({@code renew-before-expiry-days 1}), so each certificate is due {@link #MARGIN} after it was issued. The renewed
 * certificate is served to new connections without a restart, a TLS connection opened before the swap keeps its
 * certificate and answers a request after it, and the renewed certificate is next looked at when it is due, not at
 * once (no renewal loop).
 */
class AcmeRenewalTest {
    private static final List<String> NAMES = List.of("renew.river-acme.test");
    /** How long after issue a certificate falls due: long enough to see the first one served, short for a test. */
    private static final Duration MARGIN = Duration.ofSeconds(12);

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;
    static int httpPort;

    @BeforeAll
    static void startPebble() throws Exception {
        httpPort = Ports.free();
        pebble = new Pebble(Files.createDirectories(dir.resolve("pebble")), httpPort, Ports.free(), Duration.ofDays(1).plus(MARGIN).toSeconds());
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() throws Exception {
        origin.close();
        pebble.close();
    }

    @Test
    void aRenewalFallsDueAndIsServedToNewConnectionsWhileAnOpenOneKeepsWorking() throws Exception {
        String kdl = pebble.acmeSection(dir.resolve("store"), "  renew-before-expiry-days 1\n")
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + httpPort + "\"\n"
                + "      \"127.0.0.1:0\" acme-domains=\"" + NAMES.get(0) + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName());
                RiverHarness river = RiverHarness.start(kdl)) {
            int tls = ((java.net.InetSocketAddress) river.service("web").boundAddresses().get(1)).getPort();
            log.await("installed (newly issued");
            X509Certificate root = pebble.root();
            X509Certificate first = river.server().acmeCertificate(NAMES).get(0);
            assertThat(Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant()))
                    .isBetween(Duration.ofDays(1), Duration.ofDays(1).plus(MARGIN).plusSeconds(1));

            try (SSLSocket held = TlsClient.connect(tls, NAMES.get(0), root); RawHttp open = new RawHttp(held)) {
                assertThat(held.getSession().getPeerCertificates()[0]).isEqualTo(first);
                assertThat(open.send("GET /before HTTP/1.1\r\nHost: " + NAMES.get(0) + "\r\n\r\n").read().status()).isEqualTo(200);

                // Due MARGIN after issue: River orders the renewal by itself and installs it.
                log.await("installed (newly issued", 2);
                X509Certificate renewed = river.server().acmeCertificate(NAMES).get(0);
                assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
                assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("(renewal, the current one expires"));
                // No loop: the renewed certificate is next looked at when it is due (MARGIN after its issue), not at once.
                CertificateManager manager = river.server().acme().orElseThrow().manager();
                Instant renewedDue = renewed.getNotAfter().toInstant().minus(Duration.ofDays(1));
                Eventually.await(() -> !manager.nextAttempt(NAMES).orElseThrow().isBefore(renewedDue), 10_000);
                assertThat(manager.failures(NAMES)).isZero();
                assertThat(pebble.ordersCreated()).isEqualTo(2);

                // New connections get the renewed certificate (verified against Pebble's root); no restart.
                assertThat(TlsClient.leaf(tls, NAMES.get(0), root)).isEqualTo(renewed);
                // The connection opened before the swap keeps its certificate and still answers.
                RawHttp.Response after = open.send("GET /after HTTP/1.1\r\nHost: " + NAMES.get(0) + "\r\n\r\n").read();
                assertThat(after.status()).isEqualTo(200);
                assertThat(after.text()).contains("GET /after");
                assertThat(held.getSession().getPeerCertificates()[0]).isEqualTo(first);
            }

            assertThat(log.count("ACME: ordering a certificate")).isEqualTo(2);
        }
    }
}
