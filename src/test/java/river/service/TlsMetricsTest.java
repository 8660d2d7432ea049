package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/** TLS handshakes, their failures by reason, and the served certificate's expiry, through a real TLS listener. */
class TlsMetricsTest {
    @TempDir
    Path dir;

    @Test
    void handshakesFailuresAndCertificateExpiry() throws Exception {
        TestPki.Pair pair = TestPki.server("metrics.example", "metrics.example", "www.metrics.example").copyTo(dir, "site");
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start("""
                        system {
                            admin {
                                enabled true
                                listen "127.0.0.1:0"
                            }
                            access-log "off"
                        }
                        services {
                            proxy {
                                listeners {
                                    "127.0.0.1:0" cert-path="site.crt" key-path="site.key"
                                }
                                connectors {
                                    "%s"
                                }
                            }
                        }
                        """.formatted(origin.address()), dir)) {
            int port = river.port("proxy");
            HttpResponse<String> ok = TlsListenerTest.trustingClient().send(
                    HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/status?code=200")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            // Cleartext HTTP to the TLS port: not a TLS record; River closes the connection.
            try (Socket plain = new Socket("127.0.0.1", port)) {
                OutputStream out = plain.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = plain.getInputStream();
                while (in.read() >= 0) {
                    // until River closes
                }
            }
            Eventually.await(() -> Scrape.of(river.server().metrics().registry()).sum("river_tls_handshake_failures_total", "reason", "not_tls") == 1,
                    5_000);
            Scrape s = Scrape.of(river.server().metrics().registry());
            assertThat(s.sum("river_tls_handshakes_total", "service", "proxy")).isEqualTo(1);
            assertThat(s.sum("river_tls_handshake_failures_total", "service", "proxy")).isEqualTo(1);
            X509Certificate leaf;
            try (InputStream in = Files.newInputStream(dir.resolve("site.crt"))) {
                leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            long notAfter = leaf.getNotAfter().toInstant().getEpochSecond();
            assertThat(s.sum("river_tls_certificate_expiry_timestamp_seconds", "name", "metrics.example")).isEqualTo(notAfter);
            assertThat(s.sum("river_tls_certificate_expiry_timestamp_seconds", "name", "www.metrics.example")).isEqualTo(notAfter);
        }
    }
}
