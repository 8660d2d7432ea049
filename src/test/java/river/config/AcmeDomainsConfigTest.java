package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A listener's {@code acme-domains}: the names read, and each kind of bad value located. */
class AcmeDomainsConfigTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        river.testsupport.TestPki.riverTestCertificate().copyTo(dir, "test");
    }

    private static String config(String listener) {
        // The acme section comes after the services, so that the listener stays on line 4.
        return "services {\n  web {\n    listeners {\n      \"127.0.0.1:8443\" " + listener
                + "\n    }\n    connectors {\n      \"127.0.0.1:9000\"\n    }\n  }\n}\n"
                + (listener.contains("acme-domains") ? river.testsupport.AcmeSections.unreachableCa(listener) : "");
    }

    private static ListenerConfig listener(String properties) throws ConfigException {
        RiverConfig c = new ConfigLoader(dir).parse(config(properties), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        return c.services().get(0).listeners().get(0);
    }

    private static List<ConfigError> errors(String properties) {
        try {
            new ConfigLoader(dir).parse(config(properties), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    private static void assertSingleError(String properties, int column, String... fragments) {
        List<ConfigError> errors = errors(properties);
        assertThat(errors).hasSize(1);
        ConfigError e = errors.get(0);
        assertThat(e.file()).isEqualTo("river.kdl");
        assertThat(e.line()).as("line of %s", e).isEqualTo(4);
        assertThat(e.column()).as("column of %s", e).isEqualTo(column);
        assertThat(e.message()).contains(fragments);
    }

    @Test
    void namesAreTrimmedLowerCasedAndKeptOnceInOrder() throws Exception {
        ListenerConfig l = listener("acme-domains=\" Example.com, *.EXAMPLE.com,www.example.com , example.com\"");
        assertThat(l.acmeDomains()).containsExactly("example.com", "*.example.com", "www.example.com");
        // A TLS listener without any static certificate; HTTP/2 offered as on every TLS listener.
        assertThat(l.tls()).isPresent();
        assertThat(l.tls().get().certPath()).isEmpty();
        assertThat(l.tls().get().keyPath()).isEmpty();
        assertThat(l.tls().get().hasStaticCertificate()).isFalse();
        assertThat(l.offerH2()).isTrue();
    }

    @Test
    void tlsOptionsAreAllowedWithoutACertificateFile() throws Exception {
        ListenerConfig l = listener("acme-domains=\"example.com\" offer-h2=false tls-min-version=\"1.3\" {\n"
                + "        sni \"static.example\" cert-path=\"test.crt\" key-path=\"test.key\"\n      }");
        assertThat(l.offerH2()).isFalse();
        assertThat(l.tls().get().minVersion()).isEqualTo("1.3");
        assertThat(l.tls().get().sni()).extracting(TlsSettings.SniCertificate::serverName).containsExactly("static.example");
    }

    @Test
    void aStaticCertificateBesideIsTheDefault() throws Exception {
        ListenerConfig l = listener("acme-domains=\"*.example.com\" cert-path=\"test.crt\" key-path=\"test.key\"");
        assertThat(l.acmeDomains()).containsExactly("*.example.com");
        assertThat(l.tls().get().certPath()).contains(dir.resolve("test.crt"));
    }

    @Test
    void listenersWithoutItHaveNone() throws Exception {
        assertThat(listener("").acmeDomains()).isEmpty();
        assertThat(listener("").tls()).isEmpty();
        assertThat(listener("cert-path=\"test.crt\" key-path=\"test.key\"").acmeDomains()).isEmpty();
        // The record's older constructors still build listeners without ACME.
        assertThat(new ListenerConfig(new ListenAddress.Tcp("127.0.0.1", 1), Optional.empty(), false, false).acmeDomains()).isEmpty();
    }

    @Test
    void badNamesAreLocatedAtTheValue() {
        assertSingleError("acme-domains=\"example.com, bad_name.com\"", 37, "acme-domains: \"bad_name.com\" is not a DNS name");
        assertSingleError("acme-domains=\"*.*.example.com\"", 37, "\"*.*.example.com\" is not a DNS name", "a wildcard is");
        assertSingleError("acme-domains=\"www.*.example.com\"", 37, "is not a DNS name");
        assertSingleError("acme-domains=\"example.com.\"", 37, "is not a DNS name");
        assertSingleError("acme-domains=\"-a.example.com\"", 37, "is not a DNS name");
        assertSingleError("acme-domains=\"127.0.0.1\"", 37, "is an IP address");
        assertSingleError("acme-domains=\"a.com,,b.com\"", 37, "an empty name between commas");
        assertSingleError("acme-domains=\" \"", 37, "must name at least one domain");
        assertSingleError("acme-domains=\"\"", 37, "must name at least one domain");
        assertSingleError("acme-domains=true", 37, "string");
    }

    @Test
    void ocspNeedsTheStaticCertificate() {
        assertSingleError("acme-domains=\"example.com\" ocsp-response-path=\"x.der\"", 51,
                "ocsp-response-path is for the listener's own certificate");
    }

    @Test
    void unixListenersCannotHaveIt() {
        List<ConfigError> errors;
        try {
            new ConfigLoader(dir).parse(config("acme-domains=\"example.com\"").replace("127.0.0.1:8443", "unix:/tmp/river-acme.sock"),
                    "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
            throw new AssertionError("expected the configuration to be rejected");
        } catch (ConfigException e) {
            errors = e.errors();
        }
        assertThat(errors).extracting(ConfigError::message).containsExactly("listener \"unix:/tmp/river-acme.sock\": TLS is not supported on unix sockets");
    }
}
