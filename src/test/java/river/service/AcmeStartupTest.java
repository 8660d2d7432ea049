package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;
import river.testsupport.TlsClient;

/**
 * The manual's start-up: a service whose listeners all manage certificates binds but accepts nothing until its
 * certificate is installed (or the CA fails, then it starts anyway); a service with a cleartext listener starts at once.
 */
class AcmeStartupTest {
    private static final List<String> NAMES = List.of("secure.river-acme.test");

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;
    static int httpPort;

    @BeforeAll
    static void startPebble() throws Exception {
        httpPort = Ports.free();
        Files.createDirectories(dir.resolve("pebble"));
        pebble = new Pebble(dir.resolve("pebble"), httpPort, Ports.free());
        origin = new TestOrigin();
    }

    @AfterAll
    static void stopPebble() throws Exception {
        origin.close();
        pebble.close();
    }

    /** A web service on the HTTP-01 port, and a secure one whose one TLS listener manages NAMES (with a static certificate beside). */
    private static RiverConfig config(Path store, boolean fallback) throws Exception {
        TestPki.Pair staticPair = TestPki.server("fallback.test");
        String kdl = pebble.acmeSection(store, "")
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + httpPort + "\"\n    }\n    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n"
                + "  secure {\n    listeners {\n      \"127.0.0.1:0\" acme-domains=\"" + NAMES.get(0) + "\""
                + (fallback ? " cert-path=\"" + staticPair.cert() + "\" key-path=\"" + staticPair.key() + "\"" : "") + "\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        return new ConfigLoader(dir).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    @Test
    void anAllTlsServiceAcceptsOnceItsCertificateIsInstalled() throws Exception {
        try (LogCapture log = LogCapture.of("river"); RiverServer river = RiverServer.start(config(dir.resolve("store-1"), false))) {
            log.await("service secure: ACME certificate(s) for [[secure.river-acme.test]] installed: accepting connections");
            List<String> lines = log.lines();
            int held = indexOf(lines, "service secure: all its listeners are TLS with acme-domains: not accepting");
            int issued = indexOf(lines, "installed (newly issued");
            int accepting = indexOf(lines, "service secure: ACME certificate(s)");
            assertThat(held).isNotNegative().isLessThan(issued);
            assertThat(issued).isLessThan(accepting);
            assertThat(indexOf(lines, "service web: all its listeners")).isNegative();
            assertThat(river.readiness().ready()).isTrue();
            X509Certificate served = handshake(river, NAMES.get(0), pebble.root());
            assertThat(served).isEqualTo(river.acmeCertificate(NAMES).get(0));
        }
    }

    @Test
    void withTheCaDownItStartsAnywayAndAStaticCertificateNeverWaits() throws Exception {
        pebble.stop();
        try {
            try (LogCapture log = LogCapture.of("river"); RiverServer river = RiverServer.start(config(dir.resolve("store-2"), false))) {
                log.await("accepting anyway");
                assertThat(river.readiness().pending()).singleElement().satisfies(p -> assertThat(p).contains("no certificate yet"));
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> handshake(river, NAMES.get(0), null))
                        .isInstanceOf(javax.net.ssl.SSLException.class);
            }
            try (LogCapture log = LogCapture.of("river"); RiverServer river = RiverServer.start(config(dir.resolve("store-3"), true))) {
                assertThat(river.readiness().ready()).isTrue();
                X509Certificate served = handshake(river, "fallback.test", null); // the static certificate beside acme-domains
                assertThat(served.getSubjectX500Principal().getName()).contains("fallback.test");
                assertThat(log.lines()).noneSatisfy(l -> assertThat(l).contains("not accepting until"));
            }
        } finally {
            pebble.start();
        }
    }

    /** The leaf served to a client asking for {@code name}, verified against {@code root} (the test CA when null) and the name. */
    private static X509Certificate handshake(RiverServer river, String name, X509Certificate root) throws Exception {
        int port = ((InetSocketAddress) river.services().stream().filter(s -> s.name().equals("secure")).findFirst().orElseThrow()
                .boundAddresses().get(0)).getPort();
        return TlsClient.leaf(port, name, root == null ? TlsClient.testCa() : root);
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
