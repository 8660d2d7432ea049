package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * The manual's recommended arrangement: an all-TLS service waits for its certificate while the acme section's
 * challenge-listener answers Pebble's HTTP-01 requests and redirects everything else to https.
 */
class AcmeChallengeListenerTest {
    private static final List<String> NAMES = List.of("cl.river-acme.test");

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;
    static int challengePort;

    @BeforeAll
    static void startPebble() throws Exception {
        challengePort = Ports.free();
        Files.createDirectories(dir.resolve("pebble"));
        pebble = new Pebble(dir.resolve("pebble"), challengePort, Ports.free());
        origin = new TestOrigin();
    }

    @AfterAll
    static void stopPebble() throws Exception {
        origin.close();
        pebble.close();
    }

    @Test
    void theChallengeListenerAnswersHttp01AndRedirectsTheRest() throws Exception {
        String kdl = pebble.acmeSection(dir.resolve("store"), "  challenge-listener \"127.0.0.1:" + challengePort + "\"\n")
                + "services {\n  Secure {\n    listeners {\n      \"127.0.0.1:0\" acme-domains=\"" + NAMES.get(0) + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
        try (LogCapture log = LogCapture.of("river"); RiverHarness river = RiverHarness.start(kdl)) {
            log.await("service Secure: ACME certificate(s) for [[cl.river-acme.test]] installed: accepting connections");
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("http-01 challenge for cl.river-acme.test is valid"));
            int port = ((InetSocketAddress) river.service("Secure").boundAddresses().get(0)).getPort();
            assertThat(TlsClient.leaf(port, NAMES.get(0), pebble.root())).isEqualTo(river.server().acmeCertificate(NAMES).get(0));

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + challengePort + "/app/page?x=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(308);
            assertThat(other.headers().firstValue("location")).contains("https://127.0.0.1/app/page?x=1");
            HttpResponse<String> unknownToken = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + challengePort + "/.well-known/acme-challenge/unknown")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(unknownToken.statusCode()).isEqualTo(308);
        }
    }
}
