package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.ListenerConfig;
import river.config.RiverConfig;
import river.config.ServiceConfig;
import river.config.SystemOverrides;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

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

    /** A web service on the HTTP-01 port, and a secure one whose one TLS listener manages NAMES. */
    private static RiverConfig config(Path store) throws Exception {
        TestPki.Pair fallback = TestPki.server("fallback.test");
        String kdl = "acme {\n  provider \"" + pebble.directoryUrl() + "\"\n  accept-terms-of-service true\n"
                + "  store-dir \"" + store + "\"\n  ca-certificate-path \"" + pebble.caCertificate() + "\"\n}\n"
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + httpPort + "\"\n    }\n    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n"
                + "  secure {\n    listeners {\n      \"127.0.0.1:0\" cert-path=\"" + fallback.cert() + "\" key-path=\"" + fallback.key() + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        RiverConfig parsed = new ConfigLoader(dir).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
        // acme-domains on the secure listener (the listener reader for it is the other half of issue 17)
        ServiceConfig secure = parsed.services().get(1);
        ListenerConfig l = secure.listeners().get(0);
        ServiceConfig managed = new ServiceConfig(secure.name(), List.of(new ListenerConfig(l.address(), l.tls(), l.offerH2(), l.proxyProtocol(),
                l.h2c(), NAMES)), secure.handler(), secure.pathControl(), secure.rateLimits(), secure.http(), secure.guards(), secure.compression());
        return new RiverConfig(parsed.system(), List.of(parsed.services().get(0), managed), parsed.acme());
    }

    @Test
    void anAllTlsServiceAcceptsOnceItsCertificateIsInstalled() throws Exception {
        try (LogCapture log = LogCapture.of("river"); RiverServer river = RiverServer.start(config(dir.resolve("store-1")))) {
            log.await("service secure: ACME certificate(s) for [[secure.river-acme.test]] installed: accepting connections");
            List<String> lines = log.lines();
            int held = indexOf(lines, "service secure: all its listeners are TLS with acme-domains: not accepting");
            int issued = indexOf(lines, "installed (newly issued");
            int accepting = indexOf(lines, "service secure: ACME certificate(s)");
            assertThat(held).isNotNegative().isLessThan(issued);
            assertThat(issued).isLessThan(accepting);
            assertThat(indexOf(lines, "service web: all its listeners")).isNegative();
            assertThat(river.readiness().ready()).isTrue();
            handshake(river);
        }
    }

    @Test
    void withTheCaDownItStartsAnyway() throws Exception {
        pebble.stop();
        try (LogCapture log = LogCapture.of("river"); RiverServer river = RiverServer.start(config(dir.resolve("store-2")))) {
            log.await("accepting anyway");
            assertThat(river.readiness().pending()).containsExactly("acme: no certificate yet for secure.river-acme.test");
            handshake(river); // the static certificate beside acme-domains
        } finally {
            pebble.start();
        }
    }

    private static void handshake(RiverServer river) throws Exception {
        int port = ((InetSocketAddress) river.services().stream().filter(s -> s.name().equals("secure")).findFirst().orElseThrow()
                .boundAddresses().get(0)).getPort();
        javax.net.ssl.SSLContext trustAll = javax.net.ssl.SSLContext.getInstance("TLS");
        java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        trust.load(null, null);
        try (var in = Files.newInputStream(TestPki.caCertificate())) {
            trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        trustAll.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket) trustAll.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            assertThat(socket.getSession().getProtocol()).startsWith("TLS");
        }
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
