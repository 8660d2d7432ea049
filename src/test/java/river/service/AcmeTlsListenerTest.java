package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.server.ManagedCertificates;
import river.testsupport.Eventually;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.Scrape;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * Listeners with {@code acme-domains} serving the certificates installed in
 * {@link ManagedCertificates} (as the ACME client installs them) and TLS-ALPN-01 challenges, checked
 * with real TLS clients (the JDK's, openssl s_client) against a real River.
 */
class AcmeTlsListenerTest {
    private static final String STATIC_CN = "NOT FOR ACTUAL USE";
    @TempDir
    static Path dir;
    static TestOrigin origin;

    @BeforeAll
    static void start() throws Exception {
        TestPki.riverTestCertificate().copyTo(dir, "test");
        TestPki.server("static.example").copyTo(dir, "static");
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() {
        origin.close();
    }

    private static RiverHarness river(String listenerProperties) throws Exception {
        return RiverHarness.start(kdl(listenerProperties), dir);
    }

    private static String kdl(String listenerProperties) {
        return """
                system {
                    admin {
                        enabled true
                        listen "127.0.0.1:0"
                    }
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" %s
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(listenerProperties, origin.address()) + river.testsupport.AcmeSections.unreachableCa(listenerProperties);
    }

    private static void install(RiverHarness river, TestPki.Pair pair, String... names) throws Exception {
        river.server().managedCertificates().install(List.of(names), pair.privateKey(), pair.chain());
    }

    /** A TLS connection, handshake done, asking for {@code sni} (none when null) and offering {@code alpn}; trusts anything. */
    private static SSLSocket connect(int port, String sni, String... alpn) throws Exception {
        SSLContext ssl = TestPki.trustingEverything();
        SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        SSLParameters parameters = socket.getSSLParameters();
        if (sni != null) {
            parameters.setServerNames(List.of(new SNIHostName(sni)));
        }
        if (alpn.length > 0) {
            parameters.setApplicationProtocols(alpn);
        }
        socket.setSSLParameters(parameters);
        try {
            socket.startHandshake();
        } catch (Exception e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    private static X509Certificate leaf(SSLSocket socket) throws Exception {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    /** The subject CN of the certificate served for {@code sni}. */
    private static String served(int port, String sni) throws Exception {
        try (SSLSocket socket = connect(port, sni, "http/1.1")) {
            return cn(socket);
        }
    }

    private static String cn(SSLSocket socket) throws Exception {
        return leaf(socket).getSubjectX500Principal().getName().replaceFirst("^.*CN=([^,]+).*$", "$1");
    }

    private static double failures(RiverHarness river, String reason) {
        return Scrape.of(river.server().metrics().registry()).sum("river_tls_handshake_failures_total", "reason", reason);
    }

    @Test
    void withoutAStaticCertificateHandshakesFailUntilTheFirstIsInstalled() throws Exception {
        try (RiverHarness river = river("acme-domains=\"a.example, www.a.example\"")) {
            int port = river.port("proxy");
            assertThat(river.server().readiness().pending()).anySatisfy(p -> assertThat(p).contains("no certificate yet"));
            assertThatThrownBy(() -> connect(port, "a.example")).isInstanceOf(SSLHandshakeException.class)
                    .hasMessageContaining("unrecognized_name");
            assertThatThrownBy(() -> connect(port, null)).isInstanceOf(SSLHandshakeException.class);
            Eventually.await(() -> failures(river, "certificate") == 2, 5_000);

            install(river, TestPki.server("a.example", "a.example", "www.a.example"), "www.a.example", "a.example");
            assertThat(river.server().readiness().ready()).isTrue();
            assertThat(served(port, "a.example")).isEqualTo("a.example");
            assertThat(served(port, "WWW.A.example")).isEqualTo("a.example");
            // A client that sends no name gets the listener's own certificate; an unknown name still fails.
            assertThat(served(port, null)).isEqualTo("a.example");
            assertThatThrownBy(() -> connect(port, "other.example")).isInstanceOf(SSLHandshakeException.class);
            try (SSLSocket socket = connect(port, "a.example", "http/1.1"); RawHttp http = new RawHttp(socket)) {
                RawHttp.Response r = http.send("GET /echo HTTP/1.1\r\nHost: a.example\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
            }
            long notAfter = TestPki.server("a.example", "a.example", "www.a.example").chain().get(0).getNotAfter().toInstant().getEpochSecond();
            Scrape s = Scrape.of(river.server().metrics().registry());
            assertThat(s.sum("river_tls_certificate_expiry_timestamp_seconds", "name", "www.a.example")).isEqualTo(notAfter);
            assertThat(river.server().managedCertificates().expiryByName()).containsEntry("a.example", notAfter);
        }
    }

    @Test
    void aStaticCertificateIsServedBeforeAndBesideTheManagedOne() throws Exception {
        try (RiverHarness river = river("acme-domains=\"b.example\" cert-path=\"test.crt\" key-path=\"test.key\" {\n"
                + "                sni \"static.example\" cert-path=\"static.crt\" key-path=\"static.key\"\n            }")) {
            int port = river.port("proxy");
            assertThat(river.server().readiness().ready()).isTrue();
            assertThat(served(port, "b.example")).isEqualTo(STATIC_CN);

            install(river, TestPki.server("b.example"), "b.example");
            assertThat(served(port, "b.example")).isEqualTo("b.example");
            assertThat(served(port, "static.example")).isEqualTo("static.example");
            assertThat(served(port, "other.example")).isEqualTo(STATIC_CN);
            assertThat(served(port, null)).isEqualTo(STATIC_CN);
        }
    }

    @Test
    void aReplacementServesNewConnectionsWhileOpenOnesKeepTheirs() throws Exception {
        try (RiverHarness river = river("acme-domains=\"c.example\"")) {
            int port = river.port("proxy");
            install(river, TestPki.server("c.example"), "c.example");
            try (SSLSocket open = connect(port, "c.example", "http/1.1"); RawHttp http = new RawHttp(open)) {
                assertThat(http.send("GET /echo HTTP/1.1\r\nHost: c.example\r\n\r\n").read().status()).isEqualTo(200);

                install(river, TestPki.server("renewed.c.example", "c.example"), "c.example");
                assertThat(served(port, "c.example")).isEqualTo("renewed.c.example");

                assertThat(http.send("GET /echo?again HTTP/1.1\r\nHost: c.example\r\n\r\n").read().status()).isEqualTo(200);
                assertThat(leaf(open).getSubjectX500Principal().getName()).isEqualTo("CN=c.example");
            }
        }
    }

    @Test
    void anAlpnChallengeIsAnsweredWithAcmeTls1AndClosedAfterTheHandshake() throws Exception {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest("token.thumbprint".getBytes(StandardCharsets.US_ASCII));
        TestPki.Pair challenge = TestPki.alpnChallenge("d.example", digest);
        try (RiverHarness river = river("acme-domains=\"d.example\" cert-path=\"test.crt\" key-path=\"test.key\"")) {
            int port = river.port("proxy");
            ManagedCertificates managed = river.server().managedCertificates();
            managed.addAlpnChallenge("D.example", challenge.privateKey(), challenge.chain().get(0));

            try (SSLSocket socket = connect(port, "d.example", "acme-tls/1")) {
                assertThat(socket.getApplicationProtocol()).isEqualTo("acme-tls/1");
                X509Certificate served = leaf(socket);
                assertThat(served).isEqualTo(challenge.chain().get(0));
                byte[] extension = served.getExtensionValue(TestPki.ACME_IDENTIFIER_OID);
                byte[] expected = new byte[36];
                expected[0] = 0x04;
                expected[1] = 34;
                expected[2] = 0x04;
                expected[3] = 32;
                System.arraycopy(digest, 0, expected, 4, 32);
                assertThat(extension).isEqualTo(expected);
                assertThat(served.getCriticalExtensionOIDs()).contains(TestPki.ACME_IDENTIFIER_OID);
                // River closes the connection once the handshake is done: it never reaches HTTP.
                assertThat(socket.getInputStream().read()).isEqualTo(-1);
            }
            String out = sClient(port, "-alpn", "acme-tls/1", "-servername", "d.example");
            assertThat(out).contains("ALPN protocol: acme-tls/1", "CN = d.example");
            // The same name without acme-tls/1, and another name with it, get the ordinary certificates.
            assertThat(served(port, "d.example")).isEqualTo(STATIC_CN);
            try (SSLSocket socket = connect(port, "e.example", "acme-tls/1")) {
                assertThat(cn(socket)).isEqualTo(STATIC_CN);
                assertThat(socket.getApplicationProtocol()).isEmpty();
            }

            managed.removeAlpnChallenge("d.example");
            try (SSLSocket socket = connect(port, "d.example", "acme-tls/1")) {
                assertThat(cn(socket)).isEqualTo(STATIC_CN);
                assertThat(socket.getApplicationProtocol()).isEmpty();
            }
        }
    }

    @Test
    void installedCertificatesSurviveReloadsAlsoWhenTheListenersTlsSettingsChange() throws Exception {
        try (RiverHarness river = river("acme-domains=\"r.example\"")) {
            int port = river.port("proxy");
            install(river, TestPki.server("r.example"), "r.example");
            String changed = kdl("acme-domains=\"r.example\" tls-min-version=\"1.3\" offer-h2=false");
            ReloadOutcome outcome = river.server().reload(new ConfigLoader(dir)
                    .parse(changed, "test.kdl", ConfigFormat.KDL, SystemOverrides.none()));
            assertThat(outcome.ok()).as(outcome.toString()).isTrue();
            try (SSLSocket socket = connect(port, "r.example", "h2", "http/1.1")) {
                assertThat(cn(socket)).isEqualTo("r.example");
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
                assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
            }
            assertThat(river.server().readiness().ready()).isTrue();
        }
    }

    @Test
    void anExactNameBeatsAWildcardWhichCoversOneLabel() throws Exception {
        try (RiverHarness river = river("acme-domains=\"x.w.example, *.w.example\"")) {
            int port = river.port("proxy");
            install(river, TestPki.server("wild.w.example", "*.w.example"), "*.w.example");
            // The exact name is not covered yet: readiness waits, and the wildcard serves it meanwhile.
            assertThat(river.server().readiness().ready()).isFalse();
            assertThat(served(port, "x.w.example")).isEqualTo("wild.w.example");

            install(river, TestPki.server("x.w.example"), "x.w.example");
            assertThat(river.server().readiness().ready()).isTrue();
            assertThat(river.server().managedCertificates().covers("*.W.example")).isTrue();
            assertThat(served(port, "x.w.example")).isEqualTo("x.w.example");
            assertThat(served(port, "y.w.example")).isEqualTo("wild.w.example");
            assertThatThrownBy(() -> connect(port, "a.b.w.example")).isInstanceOf(SSLHandshakeException.class);
            assertThatThrownBy(() -> connect(port, "w.example")).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void aCertificateThatDoesNotFitIsRefusedAndTheOneInServiceStays() throws Exception {
        try (RiverHarness river = river("acme-domains=\"f.example\"")) {
            int port = river.port("proxy");
            ManagedCertificates managed = river.server().managedCertificates();
            TestPki.Pair good = TestPki.server("f.example");
            install(river, good, "f.example");
            TestPki.Pair other = TestPki.server("g.example");
            assertThatThrownBy(() -> managed.install(List.of("f.example"), other.privateKey(), good.chain()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the key does not match");
            assertThatThrownBy(() -> managed.install(List.of("f.example"), other.privateKey(), other.chain()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not name f.example");
            assertThat(served(port, "f.example")).isEqualTo("f.example");
        }
    }

    @Test
    void aMalformedClientHelloGetsAnAlertAndTheConnectionIsClosed() throws Exception {
        try (RiverHarness river = river("acme-domains=\"h.example\" cert-path=\"test.crt\" key-path=\"test.key\"")) {
            int port = river.port("proxy");
            // A ClientHello whose extensions block says 16 bytes and holds 4.
            byte[] body = new byte[2 + 32 + 1 + 4 + 2 + 2 + 4];
            int i = 0;
            body[i++] = 3;
            body[i++] = 3;
            i += 32;
            body[i++] = 0; // session id
            body[i++] = 0;
            body[i++] = 2;
            body[i++] = 0x13;
            body[i++] = 0x01; // TLS_AES_128_GCM_SHA256
            body[i++] = 1;
            body[i++] = 0; // null compression
            body[i++] = 0;
            body[i++] = 16; // extensions length: a lie
            body[i++] = 0;
            body[i++] = 0; // server_name
            body[i++] = 0;
            body[i] = 0;
            byte[] record = new byte[5 + 4 + body.length];
            record[0] = 0x16;
            record[1] = 3;
            record[2] = 1;
            record[3] = (byte) ((4 + body.length) >> 8);
            record[4] = (byte) (4 + body.length);
            record[5] = 1; // ClientHello
            record[8] = (byte) body.length;
            System.arraycopy(body, 0, record, 9, body.length);
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                out.write(record);
                out.flush();
                InputStream in = socket.getInputStream();
                assertThat(in.readAllBytes()).containsExactly(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50);
            }
            Eventually.await(() -> failures(river, "other") + failures(river, "certificate") == 1, 5_000);
            // The listener still serves well-formed ones.
            assertThat(served(port, "h.example")).isEqualTo(STATIC_CN);
        }
    }

    /** Runs openssl s_client against a port; returns its output. */
    private static String sClient(int port, String... options) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
