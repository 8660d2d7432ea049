package river.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of invalid configuration is reported with file, line, column and what was expected. */
class ConfigValidationTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        river.testsupport.TestPki.riverTestCertificate().copyTo(dir, "test");
    }

    private static List<ConfigError> errors(String kdl) {
        try {
            new ConfigLoader(dir).parse(kdl, "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    private static String service(String body) {
        return "services {\n  web {\n" + body + "\n  }\n}\n";
    }

    private static final String LISTENER = "    listeners {\n      \"127.0.0.1:8080\"\n    }\n";
    private static final String CONNECTOR = "    connectors {\n      \"127.0.0.1:9000\"\n    }\n";

    private static void assertSingleError(String kdl, int line, int column, String... fragments) {
        List<ConfigError> errors = errors(kdl);
        assertThat(errors).hasSize(1);
        ConfigError e = errors.get(0);
        assertThat(e.file()).isEqualTo("river.kdl");
        assertThat(e.line()).as("line of %s", e).isEqualTo(line);
        assertThat(e.column()).as("column of %s", e).isEqualTo(column);
        assertThat(e.message()).contains(fragments);
    }

    @Test
    void minimalProxyServiceIsValid() throws ConfigException {
        RiverConfig c = new ConfigLoader(dir).parse(service(LISTENER + CONNECTOR), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(c.services()).hasSize(1);
        assertThat(c.system()).isEqualTo(SystemConfig.defaults());
    }

    @Test
    void unknownNodeIsNamedWithItsLine() {
        assertSingleError(service(LISTENER + CONNECTOR + "    caching {\n    }"), 9, 5, "unknown node \"caching\"", "listeners, connectors");
    }

    @Test
    void unknownPropertyIsNamedWithItsColumn() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8080\" offer-h3=true\n    }\n" + CONNECTOR),
                4, 24, "unknown property \"offer-h3\"", "cert-path");
    }

    @Test
    void wrongTypeSaysWhatWasExpected() {
        assertSingleError("system {\n  threads-per-service \"eight\"\n}\n" + service(LISTENER + CONNECTOR),
                2, 23, "threads-per-service expects a positive integer", "found a string");
        assertSingleError("system {\n  daemonize 1\n}\n" + service(LISTENER + CONNECTOR), 2, 13, "daemonize expects true or false");
    }

    @Test
    void missingServicesSectionIsReported() {
        assertSingleError("system {\n  threads-per-service 2\n}\n", 1, 1, "missing required section \"services\"");
    }

    @Test
    void missingListenersIsReported() {
        assertSingleError(service(CONNECTOR), 2, 3, "missing the required section \"listeners\"");
    }

    @Test
    void missingConnectorsAndFileServerIsReported() {
        assertSingleError(service(LISTENER), 2, 3, "needs \"connectors\"", "\"file-server\"");
    }

    @Test
    void fileServerCannotBeCombinedWithConnectors() {
        assertSingleError(service(LISTENER + CONNECTOR + "    file-server {\n      base-path \".\"\n    }"),
                6, 5, "\"connectors\" cannot be combined with \"file-server\"");
    }

    @Test
    void fileServerOptionsAreReadWithTheirDefaults() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("404.html"), "<h1>gone</h1>");
        RiverConfig c = new ConfigLoader(dir).parse(service(LISTENER + "    file-server {\n      base-path \".\"\n"
                + "      index-files \"index.htm\" \"default.html\"\n      directory-listing true\n      serve-dotfiles true\n"
                + "      error-page 404 \"404.html\"\n      cache-control \"/assets/**\" \"max-age=60\"\n      precompressed true\n    }"),
                "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        ServiceHandler.FileServer files = (ServiceHandler.FileServer) c.services().get(0).handler();
        assertThat(files.indexFiles()).containsExactly("index.htm", "default.html");
        assertThat(files.directoryListing()).isTrue();
        assertThat(files.serveDotfiles()).isTrue();
        assertThat(files.precompressed()).isTrue();
        assertThat(files.errorPages()).containsEntry(404, dir.resolve("404.html"));
        assertThat(files.cacheControl()).containsExactly(new ServiceHandler.FileServer.CacheRule("/assets/**", "max-age=60"));
        RiverConfig defaults = new ConfigLoader(dir).parse(service(LISTENER + "    file-server {\n      base-path \".\"\n    }"),
                "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        ServiceHandler.FileServer d = (ServiceHandler.FileServer) defaults.services().get(0).handler();
        assertThat(d).isEqualTo(new ServiceHandler.FileServer(d.basePath()));
        assertThat(d.indexFiles()).containsExactly("index.html");
        assertThat(d.directoryListing()).isFalse();
        assertThat(d.serveDotfiles()).isFalse();
        assertThat(d.precompressed()).isFalse();
    }

    @Test
    void badFileServerOptionsAreLocated() {
        String head = LISTENER + "    file-server {\n      base-path \".\"\n";
        assertSingleError(service(head + "      index-files \"a/b.html\"\n    }"), 8, 19, "index-files", "not a plain file name");
        assertSingleError(service(head + "      directory-listing \"yes\"\n    }"), 8, 25, "directory-listing expects true or false");
        assertSingleError(service(head + "      error-page 500 \"x.html\"\n    }"), 8, 18, "error-page status must be 403 or 404");
        assertSingleError(service(head + "      error-page 404 \"missing.html\"\n    }"), 8, 22, "error-page \"missing.html\": no file");
        assertSingleError(service(head + "      cache-control \"assets\" \"max-age=1\"\n    }"), 8, 21, "must start with /");
        assertSingleError(service(head + "      cache-control \"/a\"\n    }"), 8, 7, "cache-control expects a path pattern and a value");
        assertSingleError(service(head + "      listing true\n    }"), 8, 7, "unknown node \"listing\"", "directory-listing");
        assertSingleError(service(head + "      open-file-cache max=0\n    }"), 8, 27, "max expects a positive integer");
        assertSingleError(service(head + "      open-file-cache max=200000\n    }"), 8, 27, "open-file-cache max is at most 100000");
        assertSingleError(service(head + "      open-file-cache size=10\n    }"), 8, 23, "unknown property \"size\"", "max, valid-ms");
        assertSingleError(service(head + "      open-file-cache 10\n    }"), 8, 23, "open-file-cache takes only properties");
    }

    @Test
    void openFileCacheIsOffByDefaultAndReadWithItsDefaults() throws Exception {
        RiverConfig c = new ConfigLoader(dir).parse(service(LISTENER + "    file-server {\n      base-path \".\"\n"
                + "      open-file-cache valid-ms=250\n    }"), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        ServiceHandler.FileServer files = (ServiceHandler.FileServer) c.services().get(0).handler();
        assertThat(files.openFileCache()).isEqualTo(new ServiceHandler.FileServer.OpenFiles(1000, 250));
        assertThat(new ServiceHandler.FileServer(files.basePath()).openFileCache()).isNull();
    }

    @Test
    void tlsOptionWithoutCertificateIsRejected() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8443\" offer-h2=true\n    }\n" + CONNECTOR),
                4, 24, "offer-h2 needs TLS");
    }

    @Test
    void sniCertificatesNeedTlsOnTheListener() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8080\" {\n        sni \"a.example\" cert-path=\"test.crt\" key-path=\"test.key\"\n      }\n    }\n" + CONNECTOR),
                5, 9, "sni certificates need TLS");
    }

    @Test
    void sniNeedsAValidNameAndBothFiles() {
        List<ConfigError> errors = errors(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\" key-path=\"test.key\" {\n"
                + "        sni \"bad name\" cert-path=\"test.crt\" key-path=\"test.key\"\n        sni \"b.example\" cert-path=\"test.crt\"\n      }\n    }\n" + CONNECTOR));
        assertThat(errors).extracting(ConfigError::message)
                .anySatisfy(m -> assertThat(m).contains("sni \"bad name\" is not a valid DNS name"))
                .anySatisfy(m -> assertThat(m).contains("sni \"b.example\" needs cert-path and key-path"));
    }

    @Test
    void certificateWithoutKeyIsRejected() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\"\n    }\n" + CONNECTOR),
                4, 24, "cert-path and key-path must be given together");
    }

    @Test
    void missingCertificateFileIsRejected() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"nope.crt\" key-path=\"test.key\"\n    }\n" + CONNECTOR),
                4, 34, "cert-path \"nope.crt\": no readable file");
    }

    private static String ocspListener(String file) {
        return service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\" key-path=\"test.key\" ocsp-response-path=\"" + file
                + "\"\n    }\n" + CONNECTOR);
    }

    @Test
    void ocspResponseMustBeAWholeDerFile() throws Exception {
        // Column 84: where the value of ocsp-response-path starts.
        assertSingleError(ocspListener("nope.der"), 4, 84, "ocsp-response-path \"nope.der\": no readable file");
        assertSingleError(ocspListener("test.crt"), 4, 84, "ocsp-response-path \"test.crt\"", "not a DER-encoded OCSP response");
        Files.write(dir.resolve("truncated.der"), new byte[] {0x30, (byte) 0x82, 0x01, 0x00, 0x0a, 0x01, 0x00});
        assertSingleError(ocspListener("truncated.der"), 4, 84, "not a whole DER-encoded OCSP response (7 bytes, the encoding says 260)");
        Files.write(dir.resolve("huge.der"), new byte[TlsSettings.MAX_OCSP_RESPONSE_BYTES + 1]);
        assertSingleError(ocspListener("huge.der"), 4, 84, "larger than 65536 bytes");
    }

    @Test
    void ocspResponseIsReadForTheListenerAndEachSniCertificate() throws Exception {
        Files.write(dir.resolve("good.der"), new byte[] {0x30, 0x03, 0x0a, 0x01, 0x06});
        RiverConfig c = new ConfigLoader(dir).parse(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\" key-path=\"test.key\""
                + " ocsp-response-path=\"good.der\" {\n        sni \"a.example\" cert-path=\"test.crt\" key-path=\"test.key\""
                + " ocsp-response-path=\"good.der\"\n        sni \"b.example\" cert-path=\"test.crt\" key-path=\"test.key\"\n      }\n    }\n"
                + CONNECTOR), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        TlsSettings tls = c.services().get(0).listeners().get(0).tls().orElseThrow();
        assertThat(tls.ocspResponsePath()).contains(dir.resolve("good.der"));
        assertThat(tls.sni()).extracting(TlsSettings.SniCertificate::ocspResponsePath)
                .containsExactly(java.util.Optional.of(dir.resolve("good.der")), java.util.Optional.empty());
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\" key-path=\"test.key\" {\n"
                + "        sni \"a.example\" cert-path=\"test.crt\" key-path=\"test.key\" ocsp-response-path=\"test.key\"\n      }\n    }\n"
                + CONNECTOR), 5, 85, "ocsp-response-path \"test.key\"", "not a DER-encoded OCSP response");
    }

    @Test
    void ocspResponseNeedsTls() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8080\" ocsp-response-path=\"test.crt\"\n    }\n" + CONNECTOR),
                4, 24, "ocsp-response-path needs TLS");
    }

    @Test
    void h2ProtoWithoutTlsIsRejected() {
        assertSingleError(service(LISTENER + "    connectors {\n      \"127.0.0.1:9000\" proto=\"h2-only\"\n    }"),
                7, 30, "proto=\"h2-only\" needs TLS");
    }

    @Test
    void invalidCidrIsRejected() {
        assertSingleError(service(LISTENER + CONNECTOR
                        + "    path-control {\n      request-filters {\n        filter kind=\"block-cidr-range\" addrs=\"10.0.0.0/8, 300.1.2.3/8\"\n      }\n    }"),
                11, 46, "\"300.1.2.3/8\" is not an IP address or CIDR range");
    }

    @Test
    void invalidRegexIsRejected() {
        assertSingleError(service(LISTENER + CONNECTOR
                        + "    path-control {\n      upstream-request {\n        filter kind=\"remove-header-key-regex\" pattern=\"(secret\"\n      }\n    }"),
                11, 55, "pattern is not a valid regular expression");
        assertSingleError(service(LISTENER + CONNECTOR
                        + "    rate-limiting {\n      rule kind=\"any-matching-uri\" pattern=\"[a-\" tokens-per-bucket=1 refill-qty=1 refill-rate-ms=1\n    }"),
                10, 44, "pattern is not a valid regular expression");
    }

    @Test
    void daemonizeWithoutPidFileIsRejected() {
        assertSingleError("system {\n  daemonize true\n}\n" + service(LISTENER + CONNECTOR), 1, 1, "daemonize is true but no pid-file");
    }

    @Test
    void pidFileMustBeAbsolute() {
        assertSingleError("system {\n  pid-file \"river.pid\"\n}\n" + service(LISTENER + CONNECTOR), 2, 12, "pid-file must be an absolute path");
    }

    @Test
    void filterInTheWrongStageIsRejected() {
        assertSingleError(service(LISTENER + CONNECTOR
                        + "    path-control {\n      upstream-request {\n        filter kind=\"block-cidr-range\" addrs=\"10.0.0.0/8\"\n      }\n    }"),
                11, 21, "filter kind \"block-cidr-range\" cannot be used in upstream-request");
    }

    @Test
    void theRedisOperationTimeoutDefaultsTo200MsAndMustBePositive() throws Exception {
        String rule = "      rule kind=\"any-matching-uri\" pattern=\"^/a\" tokens-per-bucket=1 refill-qty=1 refill-rate-ms=1\n";
        RiverConfig given = new ConfigLoader(dir).parse(service(LISTENER + CONNECTOR + "    rate-limiting {\n      redis \"redis://127.0.0.1:6379\" timeout-ms=1500\n"
                + rule + "    }"), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(given.services().get(0).guards().redis()).contains(new RequestGuards.RedisLimits("redis://127.0.0.1:6379", "river", 1500));
        RiverConfig defaults = new ConfigLoader(dir).parse(service(LISTENER + CONNECTOR + "    rate-limiting {\n      redis \"redis://127.0.0.1:6379\"\n"
                + rule + "    }"), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(defaults.services().get(0).guards().redis().get().timeoutMs()).isEqualTo(200);
        assertSingleError(service(LISTENER + CONNECTOR + "    rate-limiting {\n      redis \"redis://127.0.0.1:6379\" timeout-ms=0\n" + rule + "    }"),
                10, 49, "timeout-ms expects a positive integer");
    }

    @Test
    void rateLimitRuleMissingAPropertyIsRejected() {
        assertSingleError(service(LISTENER + CONNECTOR + "    rate-limiting {\n      rule kind=\"source-ip\" tokens-per-bucket=1 refill-qty=1 refill-rate-ms=1\n    }"),
                10, 7, "needs the property max-buckets=");
    }

    @Test
    void badListenerAddressIsRejected() {
        assertSingleError(service("    listeners {\n      \"localhost:8080\"\n    }\n" + CONNECTOR), 4, 7, "expected an IP address and port");
    }

    @Test
    void ketamaNeedsAKey() {
        assertSingleError(service(LISTENER + "    connectors {\n      load-balance {\n        selection \"Ketama\"\n      }\n      \"127.0.0.1:9000\"\n    }"),
                8, 9, "needs key=\"UriPath\"");
    }

    @Test
    void kdlSyntaxErrorIsLocated() {
        assertSingleError("services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\n    }\n  }\n}\n", 4, 7, "KDL syntax error");
    }

    @Test
    void allErrorsAreReportedNotJustTheFirst() {
        List<ConfigError> errors = errors("system {\n  threads-per-service 0\n  daemonize \"yes\"\n}\n"
                + service("    listeners {\n      \"127.0.0.1:99999\"\n    }\n    connectors {\n      \"127.0.0.1:9000\" weight=0\n    }"));
        assertThat(errors).extracting(ConfigError::line).containsExactly(2, 3, 8, 11);
    }

    @Test
    void tomlErrorsNameTheKeyAndItsLine() {
        String toml = "[system]\nthreads-per-service = 2\n\n[[basic-proxy]]\nname = \"a\"\nlisteners = [\n  { source = { kind = \"Tcp\", value = { addr = \"0.0.0.0:80\" } } }\n]\n"
                + "[basic-proxy.connector]\nproxy_addr = \"1.2.3.4:80\"\ntls_sni = \"bad sni\"\n";
        assertThatThrownBy(() -> new ConfigLoader(dir).parse(toml, "river.toml", ConfigFormat.TOML, SystemOverrides.none()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("river.toml:11:1: tls-sni \"bad sni\" is not a valid DNS name");
    }

    @Test
    void dnsConnectorNeedsAPort() {
        assertSingleError(service(LISTENER + "    connectors {\n      dns \"app.internal\"\n    }"), 7, 7, "needs port=PORT");
    }

    @Test
    void tlsAndTlsSniTogetherAreRejected() {
        assertSingleError(service(LISTENER + "    connectors {\n      srv \"_https._tcp.app.internal\" tls=true tls-sni=\"a.example\"\n    }"),
                7, 38, "either tls=true or tls-sni");
    }

    @Test
    void tlsTrueIsOnlyForDiscoveredConnectors() {
        assertSingleError(service(LISTENER + "    connectors {\n      \"127.0.0.1:9000\" tls=true\n    }"), 7, 24, "only for dns and srv");
    }

    @Test
    void misspelledConnectorSettingIsReportedWhereItIs() {
        assertSingleError(service(LISTENER + "    connectors {\n      \"127.0.0.1:9000\" read-timout-ms=5\n    }"), 7, 24,
                "unknown property \"read-timout-ms\"", "read-timeout-ms");
    }

    @Test
    void healthCheckKindAndOptionsAreChecked() {
        assertSingleError(service(LISTENER + "    connectors {\n      load-balance {\n        health-check \"UDP\"\n      }\n      \"127.0.0.1:9000\"\n    }"),
                8, 22, "\"None\", \"TCP\" or \"HTTP\"");
        assertSingleError(service(LISTENER + "    connectors {\n      load-balance {\n        health-check \"HTTP\" path=\"/h\"\n      }\n      \"127.0.0.1:9000\"\n    }"),
                8, 9, "needs the property host=");
    }

    @Test
    void routesAndConnectorsCannotBeCombined() {
        assertSingleError(service(LISTENER + CONNECTOR + "    routes {\n      route \"/\" {\n        connectors {\n          \"127.0.0.1:9001\"\n        }\n      }\n    }"),
                9, 5, "\"routes\" cannot be combined with \"connectors\"");
    }

    @Test
    void twoRoutesClaimingTheSameRequestsAreAnError() {
        String route = "      route \"/api\" {\n        connectors {\n          \"127.0.0.1:9001\"\n        }\n      }\n";
        assertSingleError(service(LISTENER + "    routes {\n" + route + route + "    }"), 12, 7, "matches exactly the same requests", "line 7");
    }

    @Test
    void routeRegexMustCompile() {
        assertSingleError(service(LISTENER + "    routes {\n      route \"(unclosed\" match=\"regex\" {\n        connectors {\n          \"127.0.0.1:9001\"\n        }\n      }\n    }"),
                7, 13, "does not compile");
    }

    @Test
    void h2cIsForCleartextListeners() {
        assertSingleError(service("    listeners {\n      \"127.0.0.1:8443\" cert-path=\"test.crt\" key-path=\"test.key\" h2c=true\n    }\n" + CONNECTOR),
                4, 65, "h2c is for cleartext listeners");
    }

    @Test
    void sendProxyProtocolMustNameAVersion() {
        assertSingleError(service(LISTENER + "    connectors {\n      \"127.0.0.1:9000\" send-proxy-protocol=\"v3\"\n    }"), 7, 44, "\"v1\" or \"v2\"");
    }

    @Test
    void clientIpNeedsTrustedProxies() {
        assertSingleError(service(LISTENER + CONNECTOR + "    client-ip {\n      header \"cf-connecting-ip\"\n    }"), 9, 5, "trusted-proxies");
    }

    @Test
    void aFilterInTheWrongStageIsNamed() {
        assertSingleError(service(LISTENER + CONNECTOR + "    path-control {\n      upstream-request {\n        filter kind=\"block-cidr-range\" addrs=\"10.0.0.0/8\"\n      }\n    }"),
                11, 21, "cannot be used in upstream-request");
    }

    @Test
    void clientLimitsAreReadBesideTheEngineLimitsAndDefaultOtherwise() throws ConfigException {
        RiverConfig c = new ConfigLoader(dir).parse(service(LISTENER + CONNECTOR
                + "    limits max-request-header-bytes=32768 max-connections=50 max-connections-per-address=4 \\\n"
                + "        max-connection-rate-per-address=2 max-concurrent-streams=16 max-pipelined-requests=0 \\\n"
                + "        max-request-headers=20 max-request-body-bytes=5000000000"),
                "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        ServiceConfig web = c.services().get(0);
        assertThat(web.guards().limits()).isEqualTo(new ClientLimits(50, 4, 2, 16, 0, 20, 5_000_000_000L));
        assertThat(web.http().maxRequestHeaderBytes()).isEqualTo(32768);
        RiverConfig plain = new ConfigLoader(dir).parse(service(LISTENER + CONNECTOR), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        assertThat(plain.services().get(0).guards().limits()).isEqualTo(ClientLimits.defaults());
    }

    @Test
    void clientLimitErrorsNameTheirPlace() {
        assertSingleError(service(LISTENER + CONNECTOR + "    limits max-concurrent-streams=0"), 9, 35,
                "max-concurrent-streams expects a positive integer");
        assertSingleError(service(LISTENER + CONNECTOR + "    limits max-request-body-bytes=-1"), 9, 35,
                "max-request-body-bytes expects a non-negative integer");
        assertSingleError(service(LISTENER + CONNECTOR + "    limits max-connection-per-address=1"), 9, 12,
                "unknown property \"max-connection-per-address\"", "max-connections-per-address");
    }
}
