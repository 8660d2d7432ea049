package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import river.config.AcmeConfig.Challenge;
import river.config.AcmeConfig.Domain;
import river.config.AcmeConfig.KeyType;
import river.config.AcmeConfig.Renewal;

/** The top-level {@code acme} section: defaults, every option, River's extensions, and each bad value located. */
class AcmeConfigTest {
    private static final String PLAIN_SERVICE = "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n"
            + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n";
    private static final String REQUIRED = "    accept-terms-of-service true\n    store-dir \"/var/lib/river/acme\"\n";

    private static RiverConfig parse(String text) throws ConfigException {
        return new ConfigLoader(Path.of("")).parse(text, "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static AcmeConfig acme(String body) throws ConfigException {
        return parse("acme {\n" + body + "\n}\n" + PLAIN_SERVICE).acme().orElseThrow();
    }

    /** The section alone, read without the rest of a configuration. */
    private static AcmeConfig section(String body) throws Exception {
        Problems problems = new Problems("river.kdl");
        AcmeConfig a = new AcmeReader(problems, new ValueRules(problems, Path.of("").toAbsolutePath()))
                .acme(river.kdl.KdlParser.parse("acme {\n" + body + "\n}\n").nodes().get(0));
        problems.throwIfAny();
        return a;
    }

    /** The errors of a config whose listener manages {@code acmeDomains}. */
    private static List<ConfigError> acmeWithListener(String body, String acmeDomains) {
        return errors("acme {\n" + body + "\n}\n" + tlsService(acmeDomains));
    }

    /** The errors a config gives (none if it loads). */
    private static List<ConfigError> errors(String text) {
        try {
            parse(text);
        } catch (ConfigException e) {
            return e.errors();
        }
        return List.of();
    }

    /** The one error an acme body gives; the body's first line is line 2. */
    private static ConfigError error(String body) {
        List<ConfigError> errors = errors("acme {\n" + body + "\n}\n" + PLAIN_SERVICE);
        assertThat(errors).hasSize(1);
        return errors.get(0);
    }

    private static String tlsService(String acmeDomains) {
        return "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n      \"127.0.0.1:8443\" acme-domains=\"" + acmeDomains + "\"\n    }\n"
                + "    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n";
    }

    @Test
    void absentByDefaultAndDefaultsWhenPresent() throws ConfigException {
        assertThat(parse(PLAIN_SERVICE).acme()).isEmpty();
        AcmeConfig a = acme(REQUIRED);
        assertThat(a).isEqualTo(new AcmeConfig(AcmeConfig.LETSENCRYPT, List.of(), Path.of("/var/lib/river/acme"), new Renewal.Default(),
                Challenge.HTTP_01, Optional.empty(), 60, List.of(), KeyType.ECDSA_P256, Optional.empty()));
        assertThat(a.profile()).as("the CA's default profile").isEmpty();
        assertThat(a.directory()).isEqualTo(URI.create("https://acme-v02.api.letsencrypt.org/directory"));
    }

    @Test
    void everyOptionIsRead() throws Exception {
        Path ca = CompatConfigTest.COMPAT.resolve("assets/test.crt");
        String body = REQUIRED + "    provider \"https://ca.internal:14000/dir\"\n    contact \"mailto:ops@example.com\"\n"
                + "    contact \"mailto:oncall@example.com\"\n    renew-after-issue-days 60\n    challenge \"tls-alpn-01\"\n"
                + "    challenge-listener \"0.0.0.0:80\"\n    dns-propagation-seconds 0\n    key-type \"rsa-2048\"\n"
                + "    ca-certificate-path \"" + ca + "\"\n    profile \"shortlived\"\n"
                + "    domain \"*.Example.com\" challenge=\"dns-01\" hook=\"/usr/local/bin/river-dns-hook\"\n"
                + "    domain \"www.example.com\" challenge=\"http-01\"";
        assertThat(acmeWithListener(body, "*.example.com, www.example.com")).isEmpty();
        AcmeConfig a = section(body);
        assertThat(a).isEqualTo(new AcmeConfig(URI.create("https://ca.internal:14000/dir"), List.of("mailto:ops@example.com", "mailto:oncall@example.com"),
                Path.of("/var/lib/river/acme"), new Renewal.AfterIssue(60), Challenge.TLS_ALPN_01, Optional.of(new ListenAddress.Tcp("0.0.0.0", 80)), 0,
                List.of(new Domain("*.example.com", Optional.of(Challenge.DNS_01), Optional.of(Path.of("/usr/local/bin/river-dns-hook"))),
                        new Domain("www.example.com", Optional.of(Challenge.HTTP_01), Optional.empty())),
                KeyType.RSA_2048, Optional.of(ca), Optional.empty(), Optional.of("shortlived")));
        assertThat(a.challengeFor("*.example.com")).isEqualTo(Challenge.DNS_01);
        assertThat(a.challengeFor("www.example.com")).isEqualTo(Challenge.HTTP_01);
        assertThat(a.challengeFor("other.example.com")).isEqualTo(Challenge.TLS_ALPN_01);
        assertThat(acme(REQUIRED + "    provider \"letsencrypt-staging\"\n    renew-before-expiry-days 10").renewal())
                .isEqualTo(new Renewal.BeforeExpiry(10));
        assertThat(acme(REQUIRED + "    provider \"letsencrypt-staging\"").directory()).isEqualTo(AcmeConfig.LETSENCRYPT_STAGING);
    }

    @Test
    void theManualsRejectionsAreLocated() {
        assertThat(error("    accept-terms-of-service false\n    store-dir \"/var/lib/river/acme\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(2);
            assertThat(e.column()).isEqualTo(29);
            assertThat(e.message()).contains("accept-terms-of-service must be true");
        });
        assertThat(error("    store-dir \"/var/lib/river/acme\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(1);
            assertThat(e.message()).contains("acme needs accept-terms-of-service true");
        });
        assertThat(error("    accept-terms-of-service true")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(1);
            assertThat(e.message()).contains("acme needs store-dir");
        });
        assertThat(error("    accept-terms-of-service true\n    store-dir \"var/lib/river\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(3);
            assertThat(e.column()).isEqualTo(15);
            assertThat(e.message()).isEqualTo("store-dir must be an absolute path, found \"var/lib/river\"");
        });
        assertThat(error(REQUIRED + "    renew-before-expiry-days 30\n    renew-after-issue-days 60")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(5);
            assertThat(e.message()).contains("set at most one of renew-before-expiry-days and renew-after-issue-days");
        });
        assertThat(error(REQUIRED + "    domain \"*.example.com\" hook=\"/bin/true\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.message()).contains("a wildcard can only be validated with dns-01");
        });
        assertThat(error(REQUIRED + "    domain \"*.example.com\" challenge=\"dns-01\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.message()).contains("uses dns-01 and needs hook=");
        });
    }

    @Test
    void badValuesAreLocated() {
        assertThat(error(REQUIRED + "    provider \"http://ca.internal/dir\"").message()).contains("provider must be \"letsencrypt\"");
        assertThat(error(REQUIRED + "    contact \"ops@example.com\"").message()).contains("contact must be a mailto: URI");
        assertThat(error(REQUIRED + "    contact \"mailto:\"").message()).contains("contact must be a mailto: URI");
        assertThat(error(REQUIRED + "    challenge \"dns-02\"").message()).contains("challenge must be \"http-01\", \"dns-01\" or \"tls-alpn-01\"");
        assertThat(error(REQUIRED + "    key-type \"rsa-1024\"").message()).contains("key-type must be \"ecdsa-p256\" or \"rsa-2048\"");
        assertThat(error(REQUIRED + "    profile \"short lived\"")).satisfies(e -> {
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.column()).isEqualTo(13);
            assertThat(e.message()).isEqualTo("profile must be the name of a profile the CA lists, such as \"shortlived\" (letters, digits, "
                    + "'.', '_' or '-'; at most 64); found \"short lived\"");
        });
        assertThat(error(REQUIRED + "    profile \"\"").message()).contains("profile must be the name of a profile the CA lists", "found \"\"");
        assertThat(error(REQUIRED + "    profile 6").message()).isEqualTo("profile expects a string, found a number");
        assertThat(error(REQUIRED + "    challenge-listener \"localhost:80\"").message()).contains("challenge-listener \"localhost:80\"");
        assertThat(error(REQUIRED + "    dns-propagation-seconds -1").message()).contains("dns-propagation-seconds expects a positive integer");
        assertThat(error(REQUIRED + "    ca-certificate-path \"/no/such/ca.pem\"").message()).contains("no readable file");
        assertThat(error(REQUIRED + "    domain \"bad name\" challenge=\"http-01\"").message()).contains("is not a valid DNS name");
        assertThat(error(REQUIRED + "    domain \"a.example.com\" challenge=\"http-01\"\n    domain \"A.example.com\"").message())
                .contains("domain \"a.example.com\" is given twice");
        assertThat(error(REQUIRED + "    store-dir \"/elsewhere\"").message()).contains("\"store-dir\" is given more than once");
        assertThat(error(REQUIRED + "    renew \"soon\"").message()).contains("unknown node \"renew\" in acme");
        assertThat(errors("acme {\n" + REQUIRED + "}\nacme {\n" + REQUIRED + "}\n" + PLAIN_SERVICE)).extracting(ConfigError::message)
                .contains("\"acme\" is given more than once");
    }

    @Test
    void listenersAreCheckedAgainstTheSection() {
        assertThat(errors(tlsService("example.com"))).singleElement().satisfies(e -> {
            assertThat(e.line()).isEqualTo(5);
            assertThat(e.column()).isEqualTo(37);
            assertThat(e.message()).contains("sets acme-domains but there is no top-level acme section");
        });
        assertThat(errors("acme {\n" + REQUIRED + "}\n" + tlsService("example.com, *.example.com"))).singleElement().satisfies(e -> {
            assertThat(e.line()).isEqualTo(9);
            assertThat(e.message()).contains("\"*.example.com\" is a wildcard, which can only be validated with dns-01");
        });
        assertThat(errors("acme {\n" + REQUIRED + "    challenge \"dns-01\"\n}\n" + tlsService("example.com"))).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("\"example.com\" uses dns-01 and needs a hook"));
        assertThat(errors("acme {\n" + REQUIRED + "    domain \"other.example.com\" challenge=\"http-01\"\n}\n" + tlsService("example.com")))
                .singleElement().satisfies(e -> {
                    assertThat(e.line()).isEqualTo(4);
                    assertThat(e.message()).contains("domain \"other.example.com\" is not in any listener's acme-domains; managed names: example.com");
                });
        assertThat(errors("acme {\n" + REQUIRED + "    domain \"*.example.com\" challenge=\"dns-01\" hook=\"/bin/true\"\n}\n"
                + tlsService("example.com, *.example.com"))).isEmpty();
    }
}
