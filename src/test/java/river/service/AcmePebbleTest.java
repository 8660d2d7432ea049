package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.acme.AcmeClient;
import river.acme.CertificateManager;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * End to end against Pebble: River answers HTTP-01 on its own cleartext listener, obtains a certificate whose chain
 * verifies against Pebble's root, keeps it in the store; a restart serves it with no new order and no new account;
 * with Pebble down, River keeps serving and retries with a backoff.
 */
class AcmePebbleTest {
    private static final List<String> NAMES = List.of("river-acme.test", "www.river-acme.test");

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;
    static int httpPort;
    static X509Certificate root;

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

    private static String config(Path store, String extra) throws Exception {
        return pebble.acmeSection(store, "  contact \"mailto:ops@river-acme.test\"\n" + extra)
                + "services {\n  web {\n    listeners {\n      \"127.0.0.1:" + httpPort + "\"\n"
                + "      \"127.0.0.1:0\" acme-domains=\"" + String.join(", ", NAMES) + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
    }

    @Test
    void http01CertificateThenRestartReusesItThenTheCaGoesDown() throws Exception {
        Path store = dir.resolve("store");
        X509Certificate first;
        try (LogCapture client = LogCapture.of(AcmeClient.class.getName());
                RiverHarness river = RiverHarness.start(config(store, ""))) {
            Eventually.await(() -> !river.server().acmeCertificate(NAMES).isEmpty(), 60_000);
            List<X509Certificate> chain = river.server().acmeCertificate(NAMES);
            verify(chain);
            first = chain.get(0);
            assertThat(served(river, "river-acme.test")).isEqualTo(first);
            assertThat(served(river, "www.river-acme.test")).isEqualTo(first);
            assertThat(river.server().readiness().ready()).isTrue();
            assertThat(client.lines()).anySatisfy(l -> assertThat(l).contains("http-01 challenge for river-acme.test is valid"));
            assertThat(client.lines()).anySatisfy(l -> assertThat(l).contains("account", "registered"));
            assertThat(pebble.ordersCreated()).isEqualTo(1);
            // Another token under the challenge path is not River's: it is proxied.
            HttpResponse<String> other = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + "/.well-known/acme-challenge/not-ours")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(200);
        }
        assertThat(Files.exists(store.resolve("account.json"))).isTrue();

        // A restart serves the stored certificate before any order, and orders nothing.
        try (LogCapture manager = LogCapture.of(CertificateManager.class.getName());
                RiverHarness river = RiverHarness.start(config(store, ""))) {
            assertThat(river.server().acmeCertificate(NAMES)).first().isEqualTo(first);
            assertThat(served(river, "www.river-acme.test")).isEqualTo(first);
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).contains("installed (from the store"));
            assertThat(pebble.ordersCreated()).isEqualTo(1);
        }

        // The CA is down and the certificate is due: River keeps serving it and backs off.
        pebble.stop();
        try (LogCapture manager = LogCapture.of(CertificateManager.class.getName());
                RiverHarness river = RiverHarness.start(config(store, "  renew-before-expiry-days 100000\n"))) {
            manager.await("failed (attempt 1 in a row");
            assertThat(served(river, "river-acme.test")).isEqualTo(first);
            CertificateManager m = river.server().acme().orElseThrow().manager();
            assertThat(m.failures(NAMES)).isEqualTo(1);
            assertThat(m.nextAttempt(NAMES).orElseThrow()).isAfter(java.time.Instant.now().plusSeconds(30));
            HttpResponse<String> proxied = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(proxied.statusCode()).isEqualTo(200);
        } finally {
            pebble.start();
        }
    }

    /**
     * The leaf a TLS client asking for {@code name} gets from River's acme-domains listener, the chain verified against
     * Pebble's root and the name checked (HTTPS endpoint identification).
     */
    static X509Certificate served(RiverHarness river, String name) throws Exception {
        int port = ((java.net.InetSocketAddress) river.service("web").boundAddresses().get(1)).getPort();
        if (root == null) {
            root = pebble.root(); // this Pebble's root (a restarted Pebble makes a new one)
        }
        return TlsClient.leaf(port, name, root);
    }

    /** The chain names the managed names and verifies up to Pebble's root. */
    static void verify(List<X509Certificate> chain) throws Exception {
        assertThat(chain.get(0).getSubjectAlternativeNames().stream().map(san -> (Object) san.get(1)).toList()).containsExactlyInAnyOrderElementsOf(List.<Object>copyOf(NAMES));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(pebble.root(), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
    }
}
