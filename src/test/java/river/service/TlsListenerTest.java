package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.netty.handler.ssl.OpenSsl;
import river.testsupport.LogCapture;
import river.testsupport.RiverHarness;
import river.testsupport.TestPki;
import river.testsupport.TestOrigin;

/** TLS termination on a listener, with River's test certificate, checked with real TLS clients. */
class TlsListenerTest {
    @TempDir
    static Path dir;
    static TestOrigin origin;
    static RiverHarness river;
    /** River's startup lines ("service S listening on A (TLS by X)"), recorded from before the start. */
    static LogCapture startup;

    @BeforeAll
    static void start() throws Exception {
        TestPki.riverTestCertificate().copyTo(dir, "test");
        Files.createDirectories(dir.resolve("site"));
        byte[] big = new byte[1_000_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = TestOrigin.pattern(i);
        }
        Files.write(dir.resolve("site/big.bin"), big);
        origin = new TestOrigin();
        startup = LogCapture.of("river.service.RiverServer");
        river = RiverHarness.start("""
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                        }
                        connectors {
                            "%s"
                        }
                    }
                    h1only {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key" offer-h2=false
                        }
                        connectors {
                            "%s"
                        }
                    }
                    strict {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key" tls-min-version="1.3"
                        }
                        connectors {
                            "%s"
                        }
                    }
                    files {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                }
                """.formatted(origin.address(), origin.address(), origin.address()), dir);
    }

    @AfterAll
    static void stop() {
        startup.close();
        river.close();
        origin.close();
    }

    static HttpClient trustingClient() throws Exception {
        // River's test certificate is self-signed for another name; trust it for the test only.
        SSLContext ssl = TestPki.trustingEverything();
        return HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
    }

    @Test
    void proxiesOverTlsAndTellsTheOriginTheSchemeWasHttps() throws Exception {
        HttpResponse<String> r = trustingClient().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + river.port("proxy") + "/echo")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-forwarded-proto")).isEqualTo("https");
    }

    /** The TLS implementation River reported for the listener on {@code port}. */
    private static String tlsImplementation(int port) {
        String line = startup.lines().stream().filter(l -> l.contains("listening on 127.0.0.1:" + port + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no startup line for port " + port + " in " + startup.lines()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(TLS by (\\S+)\\)$").matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return m.group(1);
    }

    @Test
    void listenersUseBoringSslWhereItLoads() {
        // netty-tcnative-boringssl-static ships for this platform: if it does not load, say why.
        assertThat(OpenSsl.isAvailable()).as("BoringSSL unavailable: %s", OpenSsl.unavailabilityCause()).isTrue();
        assertThat(OpenSsl.versionString()).isEqualTo("BoringSSL");
        for (String service : new String[] {"proxy", "h1only", "strict", "files"}) {
            assertThat(tlsImplementation(river.port(service))).as(service).isEqualTo("BoringSSL");
        }
    }

    @Test
    void jdkTlsWorksWhereBoringSslIsUnavailable() throws Exception {
        System.setProperty("river.tls", "jdk");
        try (RiverHarness jdk = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address())
                .replace("\"127.0.0.1:0\"", "\"127.0.0.1:0\" cert-path=\"test.crt\" key-path=\"test.key\""), dir)) {
            assertThat(tlsImplementation(jdk.port("proxy"))).isEqualTo("JDK");
            HttpResponse<String> r = trustingClient().send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + jdk.port("proxy") + "/echo")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(negotiated(sClient(jdk.port("proxy"), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"))).isEqualTo("refused");
        } finally {
            System.clearProperty("river.tls");
        }
    }

    @Test
    void replacedCertificateIsServedWithoutRestartAndABrokenOneIsIgnored() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("rotating"));
        Files.copy(dir.resolve("test.crt"), certs.resolve("live.crt"));
        Files.copy(dir.resolve("test.key"), certs.resolve("live.key"));
        System.setProperty("river.certificateCheckMs", "100");
        try (LogCapture reloads = LogCapture.of("river.server.ServerTls");
                RiverHarness rotating = RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address())
                .replace("\"127.0.0.1:0\"", "\"127.0.0.1:0\" cert-path=\"rotating/live.crt\" key-path=\"rotating/live.key\""), dir)) {
            int port = rotating.port("proxy");
            String before = sClient(port, "-tls1_3");
            assertThat(before).doesNotContain("CN = replaced.example");

            TestPki.server("replaced.example").copyTo(certs, "new");
            // Between the two moves River may see a new key with the old certificate: that fails to
            // load (and is logged) until the certificate follows, which is then logged as in use.
            Files.move(certs.resolve("new.key"), certs.resolve("live.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.move(certs.resolve("new.crt"), certs.resolve("live.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            reloads.await("live.crt in use for new connections");
            assertThat(sClient(port, "-tls1_3")).contains("CN = replaced.example");

            int failuresBefore = reloads.count("could not load the changed certificate");
            Files.writeString(certs.resolve("live.crt"), "not a certificate");
            reloads.await("could not load the changed certificate", failuresBefore + 1);
            assertThat(sClient(port, "-tls1_3")).contains("CN = replaced.example");
        } finally {
            System.clearProperty("river.certificateCheckMs");
        }
    }

    @Test
    void sniChoosesTheCertificateAndFallsBackToTheListenersOwn() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("sni"));
        TestPki.server("a.example").copyTo(certs, "a");
        TestPki.server("wild.example").copyTo(certs, "wild");
        try (RiverHarness sni = RiverHarness.start("""
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key" {
                                sni "a.example" cert-path="sni/a.crt" key-path="sni/a.key"
                                sni "*.wild.example" cert-path="sni/wild.crt" key-path="sni/wild.key"
                            }
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address()), dir)) {
            int port = sni.port("proxy");
            assertThat(sClient(port, "-servername", "a.example")).contains("CN = a.example");
            assertThat(sClient(port, "-servername", "A.Example")).contains("CN = a.example");
            assertThat(sClient(port, "-servername", "x.wild.example")).contains("CN = wild.example");
            assertThat(sClient(port, "-servername", "deep.x.wild.example")).doesNotContain("CN = wild.example").contains("CN = NOT FOR ACTUAL USE");
            assertThat(sClient(port, "-servername", "other.example")).contains("CN = NOT FOR ACTUAL USE");
            assertThat(sClient(port, "-noservername")).contains("CN = NOT FOR ACTUAL USE");
        }
    }

    @Test
    void configuredOcspResponsesAreStapledPerCertificateAndReplacedWithoutRestart() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("ocsp"));
        TestPki.Pair site = TestPki.serverWithOcsp("localhost").copyTo(certs, "site");
        TestPki.Pair other = TestPki.serverWithOcsp("other.example").copyTo(certs, "other");
        TestPki.ocspResponse(site, false, certs.resolve("site.der"));
        TestPki.ocspResponse(other, true, certs.resolve("other.der"));
        String ca = TestPki.caCertificate().toString();
        System.setProperty("river.certificateCheckMs", "100");
        try (LogCapture reloads = LogCapture.of("river.server.ServerTls");
                RiverHarness stapling = RiverHarness.start("""
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" cert-path="ocsp/site.crt" key-path="ocsp/site.key" ocsp-response-path="ocsp/site.der" {
                                sni "other.example" cert-path="ocsp/other.crt" key-path="ocsp/other.key" ocsp-response-path="ocsp/other.der"
                                sni "plain.example" cert-path="test.crt" key-path="test.key"
                            }
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address()), dir)) {
            int port = stapling.port("proxy");
            assertThat(sClient(port, "-status", "-servername", "localhost", "-CAfile", ca, "-tls1_2"))
                    .contains("OCSP Response Status: successful", "Cert Status: good", "Verify return code: 0 (ok)");
            assertThat(sClient(port, "-status", "-servername", "localhost", "-CAfile", ca, "-tls1_3"))
                    .contains("OCSP Response Status: successful", "Cert Status: good");
            assertThat(sClient(port, "-status", "-servername", "other.example", "-CAfile", ca)).contains("CN = other.example", "Cert Status: revoked");
            assertThat(sClient(port, "-status", "-servername", "plain.example")).contains("OCSP response: no response sent");
            // A client that does not ask gets no response.
            assertThat(sClient(port, "-servername", "localhost")).doesNotContain("OCSP");

            // The responder's next answer, renamed over the old one as a cron job does.
            TestPki.ocspResponse(site, true, certs.resolve("next.der"));
            Files.move(certs.resolve("next.der"), certs.resolve("site.der"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            reloads.await("with OCSP response " + certs.resolve("site.der") + " in use for new connections");
            assertThat(sClient(port, "-status", "-servername", "localhost", "-CAfile", ca)).contains("Cert Status: revoked");

            // A half-written file is not stapled: the previous response stays.
            int failuresBefore = reloads.count("could not load the changed certificate");
            Files.write(certs.resolve("site.der"), java.util.Arrays.copyOf(Files.readAllBytes(certs.resolve("other.der")), 100));
            reloads.await("could not load the changed certificate", failuresBefore + 1);
            assertThat(sClient(port, "-status", "-servername", "localhost", "-CAfile", ca)).contains("Cert Status: revoked", "CN = localhost");
        } finally {
            System.clearProperty("river.certificateCheckMs");
        }
    }

    @Test
    void ocspStaplingWithTheJdksTlsIsRefusedAtStartup() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("ocsp-jdk"));
        TestPki.Pair site = TestPki.serverWithOcsp("localhost").copyTo(certs, "site");
        TestPki.ocspResponse(site, false, certs.resolve("site.der"));
        System.setProperty("river.tls", "jdk");
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RiverHarness.start(RiverHarness.proxyConfig(1, "", origin.address())
                    .replace("\"127.0.0.1:0\"", "\"127.0.0.1:0\" cert-path=\"ocsp-jdk/site.crt\" key-path=\"ocsp-jdk/site.key\""
                            + " ocsp-response-path=\"ocsp-jdk/site.der\""), dir).close())
                    .hasStackTraceContaining("OCSP stapling needs BoringSSL");
        } finally {
            System.clearProperty("river.tls");
        }
    }

    @Test
    void hstsIsSentByTheServiceThatSetsItOnEveryAnswer() throws Exception {
        try (RiverHarness hsts = RiverHarness.start("""
                services {
                    hsts {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                        }
                        connectors {
                            "%s"
                        }
                        path-control {
                            request-filters {
                                filter kind="redirect" pattern="^/old$" location="/new"
                            }
                            response-filters {
                                filter kind="upsert-header" key="strict-transport-security" value="max-age=31536000; includeSubDomains"
                            }
                        }
                    }
                }
                """.formatted(origin.address()), dir)) {
            HttpClient client = trustingClient();
            for (HttpClient.Version version : HttpClient.Version.values()) {
                HttpResponse<String> proxied = client.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + hsts.port("hsts") + "/echo")).version(version).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(proxied.statusCode()).isEqualTo(200);
                assertThat(proxied.version()).isEqualTo(version);
                assertThat(proxied.headers().allValues("strict-transport-security")).as(version.name())
                        .containsExactly("max-age=31536000; includeSubDomains");
            }
            // River's own answer carries it too.
            HttpResponse<String> redirect = client.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + hsts.port("hsts") + "/old")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(redirect.statusCode()).isEqualTo(302);
            assertThat(redirect.headers().allValues("strict-transport-security")).containsExactly("max-age=31536000; includeSubDomains");
        }
        // A service that does not set it sends none.
        HttpResponse<String> plain = trustingClient().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + river.port("proxy") + "/echo")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(plain.headers().allValues("strict-transport-security")).isEmpty();
    }

    @Test
    void servesFilesThroughTls() throws Exception {
        HttpResponse<byte[]> r = trustingClient().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + river.port("files") + "/big.bin")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(TestOrigin.sha256(r.body())).isEqualTo(TestOrigin.sha256(Files.readAllBytes(dir.resolve("site/big.bin"))));
    }

    /** Runs openssl s_client against a port; returns its output. */
    private static String sClient(int port, String... options) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        command.addAll(java.util.List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** The "New, PROTOCOL, Cipher is SUITE" line of s_client's output: "(NONE)" when refused. */
    private static String negotiated(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^New, (\\S+), Cipher is (\\S+)", java.util.regex.Pattern.MULTILINE).matcher(out);
        return m.find() && !m.group(2).equals("(NONE)") ? m.group(1) + " " + m.group(2) : "refused";
    }

    @Test
    void tls12And13AreAcceptedButTls11AndOlderAreRefused() throws Exception {
        int port = river.port("proxy");
        assertThat(negotiated(sClient(port, "-tls1_2"))).startsWith("TLSv1.2 ECDHE-").contains("GCM");
        assertThat(negotiated(sClient(port, "-tls1_3"))).startsWith("TLSv1.3 TLS_");
        assertThat(negotiated(sClient(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"))).isEqualTo("refused");
        assertThat(negotiated(sClient(port, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"))).isEqualTo("refused");
    }

    @Test
    void weakTls12SuitesAreNotOffered() throws Exception {
        int port = river.port("proxy");
        assertThat(negotiated(sClient(port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:AES128-SHA:AES128-GCM-SHA256"))).isEqualTo("refused");
        assertThat(negotiated(sClient(port, "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"))).isEqualTo("TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305");
    }

    @Test
    void minimumVersion13RefusesTls12() throws Exception {
        int port = river.port("strict");
        assertThat(negotiated(sClient(port, "-tls1_3"))).startsWith("TLSv1.3");
        assertThat(negotiated(sClient(port, "-tls1_2"))).isEqualTo("refused");
    }

    @Test
    void alpnOffersH2ByDefaultAndOnlyHttp11WithOfferH2False() throws Exception {
        assertThat(sClient(river.port("proxy"), "-alpn", "h2,http/1.1")).contains("ALPN protocol: h2");
        assertThat(sClient(river.port("proxy"), "-alpn", "http/1.1")).contains("ALPN protocol: http/1.1");
        assertThat(sClient(river.port("h1only"), "-alpn", "h2,http/1.1")).contains("ALPN protocol: http/1.1");
    }

    @Test
    void http2RequestsGoThroughTheSamePhases() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().sslContext(trustingClient().sslContext()).version(HttpClient.Version.HTTP_2).build();
        URI base = URI.create("https://127.0.0.1:" + river.port("proxy"));
        HttpResponse<String> get = h2.send(HttpRequest.newBuilder(base.resolve("/echo?h2=1")).header("x-test", "yes").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).startsWith("GET /echo?h2=1").contains("x-test: yes", "host: 127.0.0.1:" + river.port("proxy"),
                "x-forwarded-proto: https").doesNotContain("x-http2-");
        byte[] body = new byte[200_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = TestOrigin.pattern(i);
        }
        HttpResponse<String> post = h2.send(HttpRequest.newBuilder(base.resolve("/echo")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(post.body()).contains("body-length: 200000", "body-sha256: " + TestOrigin.sha256(body));
        HttpResponse<byte[]> download = h2.send(HttpRequest.newBuilder(base.resolve("/bytes?n=2000000")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(download.body()).hasSize(2_000_000);
        HttpResponse<byte[]> file = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + river.port("files") + "/big.bin")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(TestOrigin.sha256(file.body())).isEqualTo(TestOrigin.sha256(Files.readAllBytes(dir.resolve("site/big.bin"))));
    }

    @Test
    void h2loadMultiplexedBurstAllSucceeds() throws Exception {
        Process h2load = new ProcessBuilder("h2load", "-n", "3000", "-c", "4", "-m", "20",
                "https://127.0.0.1:" + river.port("proxy") + "/echo").redirectErrorStream(true).start();
        String out = new String(h2load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(h2load.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("requests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed", "Application protocol: h2");
    }

    @Test
    void curlSpeaksHttp2ThroughRiver() throws Exception {
        Process curl = new ProcessBuilder("curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                "https://127.0.0.1:" + river.port("proxy") + "/echo").redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo("2 200");
    }
}
