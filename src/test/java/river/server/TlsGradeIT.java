package river.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * River's TLS graded by testssl.sh (Debian's testssl.sh package; CI installs it, so a missing
 * testssl fails this test instead of skipping it): the packaged River with a TLS listener at the
 * default settings, once with BoringSSL and once forced to the JDK's TLS, and testssl's JSON findings
 * checked for what matters: only TLS 1.2 and 1.3, forward-secret AEAD suites only, no client
 * renegotiation, no compression, no known vulnerability; HSTS sent where a response filter sets it;
 * an OCSP response stapled where one is configured. Findings about the certificate itself (the
 * tests' own, self-signed) are the operator's business and not judged here. docs/tls.md records
 * the findings of testssl's full run.
 */
class TlsGradeIT {
    /** Longest one testssl run may take (it takes well under a minute here) before it is killed. */
    private static final long TESTSSL_LIMIT_S = 240;
    private static final String HSTS = "max-age=31536000; includeSubDomains";

    /** testssl's ids for the vulnerability checks of -U; each must be reported, none as HIGH or CRITICAL. */
    private static final List<String> VULNERABILITIES = List.of("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego",
            "secure_client_renego", "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
            "BEAST", "LUCKY13", "RC4");

    /** One row of testssl's cipher list: hexcode, OpenSSL name, key exchange, encryption, bits, IANA name. */
    private static final Pattern CIPHER_ROW = Pattern.compile("^(SSLv[23]|TLS 1(?:\\.[0-3])?)\\s+x\\p{XDigit}+\\s+(\\S+)\\s+(\\S+)(?: \\d+)?\\s+(\\S+)\\s+\\d+\\s+(\\S+)");

    @TempDir
    static Path dir;
    static TestOrigin origin;
    static Path testssl;

    @BeforeAll
    static void start() throws Exception {
        testssl = findTestssl().orElseThrow(() -> new AssertionError(
                "testssl.sh is not installed (Debian package testssl.sh; .ci/run installs it): River's TLS cannot be graded"));
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() {
        if (origin != null) {
            origin.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"BoringSSL", "JDK"})
    void defaultTlsSettingsGradeWell(String implementation) throws Exception {
        TestPki.Pair cert = TestPki.riverTestCertificate();
        Path work = Files.createDirectories(dir.resolve(implementation));
        // An RSA certificate, so that RSA key exchange and ROBOT would be possible if a suite allowed them.
        String config = """
                services {
                    graded {
                        listeners {
                            "127.0.0.1:0" cert-path="%s" key-path="%s"
                        }
                        connectors {
                            "%s"
                        }
                        path-control {
                            response-filters {
                                filter kind="upsert-header" key="strict-transport-security" value="%s"
                            }
                        }
                    }
                }
                """.formatted(cert.cert(), cert.key(), origin.address(), HSTS);
        List<String> jvm = implementation.equals("JDK") ? List.of("-Driver.tls=jdk") : List.of();
        try (RiverProcess.Running river = startRiver(work, config, jvm)) {
            int port = river.awaitListening(1).get(0);
            river.awaitOutput("(TLS by " + (implementation.equals("JDK") ? "JDK)" : "BoringSSL"), false);
            Map<String, JsonNode> findings = grade(work, port, "-p", "-s", "-f", "-E", "-U", "-h");
            // Soft: one run reports every failed grade, not only the first.
            SoftAssertions soft = new SoftAssertions();

            for (String old : List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1")) {
                soft.assertThat(finding(soft, findings, old)).as(old).startsWith("not offered");
            }
            soft.assertThat(finding(soft, findings, "TLS1_2")).as("TLS 1.2").startsWith("offered");
            soft.assertThat(finding(soft, findings, "TLS1_3")).as("TLS 1.3").startsWith("offered");
            soft.assertThat(finding(soft, findings, "ALPN_HTTP2")).as("ALPN").contains("h2");

            // Cipher categories: NULL, anonymous, export, LOW (DES, RC4), 3DES/IDEA, AVERAGE (the obsolete CBC suites).
            for (String category : List.of("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE")) {
                soft.assertThat(finding(soft, findings, "cipherlist_" + category)).as("cipher category " + category).startsWith("not offered");
            }
            soft.assertThat(finding(soft, findings, "PFS")).as("forward secrecy").startsWith("offered");
            List<String[]> suites = suites(findings);
            soft.assertThat(suites).as("suites offered (testssl -E)").extracting(s -> s[0]).contains("TLS 1.2", "TLS 1.3").containsOnly("TLS 1.2", "TLS 1.3");
            for (String[] suite : suites) {
                soft.assertThat(suite[3]).as("AEAD encryption of " + suite[4]).isIn("AESGCM", "ChaCha20");
                soft.assertThat(suite[2]).as("ephemeral ECDH key exchange of " + suite[4]).isEqualTo("ECDH");
            }

            soft.assertThat(finding(soft, findings, "secure_client_renego")).as("client-initiated renegotiation").startsWith("not vulnerable");
            soft.assertThat(finding(soft, findings, "CRIME_TLS")).as("TLS compression").startsWith("not vulnerable");
            for (String vulnerability : VULNERABILITIES) {
                String what = finding(soft, findings, vulnerability);
                soft.assertThat(severity(findings, vulnerability)).as(vulnerability + ": " + what).isNotIn("HIGH", "CRITICAL");
            }
            // Nothing else testssl judges HIGH or CRITICAL either. Certificate findings (from -S, not run
            // here) would judge the tests' self-signed certificate, the operator's business: kept out.
            soft.assertThat(findings.values()).as("HIGH/CRITICAL findings")
                    .filteredOn(f -> f.path("severity").asText().matches("HIGH|CRITICAL"))
                    .filteredOn(f -> !f.path("id").asText().startsWith("cert"))
                    .isEmpty();

            soft.assertThat(finding(soft, findings, "HSTS_time")).as("HSTS set by the response filter").contains("31536000");
            soft.assertThat(severity(findings, "HSTS_time")).as("HSTS judged").isEqualTo("OK");
            soft.assertAll();
        }
    }

    @Test
    void configuredOcspResponseIsStapled() throws Exception {
        Path work = Files.createDirectories(dir.resolve("ocsp"));
        TestPki.Pair site = TestPki.serverWithOcsp("localhost").copyTo(work, "site");
        TestPki.ocspResponse(site, false, work.resolve("site.der"));
        TestPki.Pair plain = TestPki.server("localhost").copyTo(work, "plain");
        String config = """
                services {
                    stapling {
                        listeners {
                            "127.0.0.1:0" cert-path="site.crt" key-path="site.key" ocsp-response-path="site.der"
                            "127.0.0.1:0" cert-path="plain.crt" key-path="plain.key"
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address());
        try (RiverProcess.Running river = startRiver(work, config, List.of())) {
            List<Integer> ports = river.awaitListening(2);
            Map<String, JsonNode> stapled = grade(work, ports.get(0), "-S");
            assertThat(finding(stapled, "OCSP_stapling")).as("OCSP stapling with ocsp-response-path").startsWith("offered");
            Map<String, JsonNode> without = grade(work, ports.get(1), "-S");
            assertThat(finding(without, "OCSP_stapling")).as("OCSP stapling without a response").startsWith("not offered");
        }
    }

    private static RiverProcess.Running startRiver(Path work, String config, List<String> jvm) throws IOException {
        Files.writeString(work.resolve("river.kdl"), config);
        return RiverProcess.startLogged(work, work, jvm, "--config-kdl", "river.kdl");
    }

    /** Runs testssl's {@code checks} against River on {@code port}; its findings by id (the first of each id). */
    private static Map<String, JsonNode> grade(Path work, int port, String... checks) throws Exception {
        Path json = Files.createTempFile(work, "testssl", ".json");
        Files.delete(json); // testssl refuses to write over a file
        Path log = work.resolve("testssl-" + port + ".log");
        List<String> command = new ArrayList<>(List.of(testssl.toString(), "--quiet", "--warnings", "batch", "--color", "0",
                "--connect-timeout", "10", "--openssl-timeout", "10", "--jsonfile", json.toString()));
        command.addAll(List.of(checks));
        // The certificate names localhost; --ip keeps testssl on IPv4 loopback without a DNS lookup.
        command.addAll(List.of("--ip", "127.0.0.1", "https://localhost:" + port));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(TESTSSL_LIMIT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("testssl did not finish within " + TESTSSL_LIMIT_S + " s:\n" + Files.readString(log));
        }
        assertThat(json).as("testssl's JSON (exit " + p.exitValue() + "):\n" + Files.readString(log)).exists();
        Map<String, JsonNode> findings = new LinkedHashMap<>();
        for (JsonNode f : new ObjectMapper().readTree(json.toFile())) {
            findings.putIfAbsent(f.path("id").asText(), f);
        }
        assertThat(findings).as("testssl ran without a scan problem:\n" + Files.readString(log)).doesNotContainKey("scanProblem");
        return findings;
    }

    private static String finding(Map<String, JsonNode> findings, String id) {
        assertThat(findings).as("testssl reported " + id).containsKey(id);
        return findings.get(id).path("finding").asText();
    }

    /** The finding for {@code id}, or "" (and a soft failure) when testssl did not report it. */
    private static String finding(SoftAssertions soft, Map<String, JsonNode> findings, String id) {
        soft.assertThat(findings).as("testssl reported " + id).containsKey(id);
        return findings.containsKey(id) ? findings.get(id).path("finding").asText() : "";
    }

    private static String severity(Map<String, JsonNode> findings, String id) {
        return findings.containsKey(id) ? findings.get(id).path("severity").asText() : "";
    }

    /** The suites testssl found offered (-E): protocol, OpenSSL name, key exchange, encryption, IANA name. */
    private static List<String[]> suites(Map<String, JsonNode> findings) {
        List<String[]> suites = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : findings.entrySet()) {
            if (e.getKey().startsWith("cipher-")) {
                Matcher m = CIPHER_ROW.matcher(e.getValue().path("finding").asText());
                assertThat(m.find()).as("a cipher row: " + e.getValue()).isTrue();
                suites.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)});
            }
        }
        return suites;
    }

    private static Optional<Path> findTestssl() {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("testssl", "testssl.sh")) {
                Path candidate = Path.of(directory, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }
}
