package river.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.AcmeConfig;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;

/**
 * DNS-01 against Pebble: a wildcard certificate through River 0.8's hook ({@code hook set|clean NAME VALUE}), here a
 * script that sets the TXT record through pebble-challtestsrv's HTTP API with curl; the propagation wait goes through
 * the injected sleeper. Also the hook's bounds: its exit status, its stderr in the log, its time limit.
 */
class AcmeDns01Test {
    @TempDir
    static Path dir;
    static Pebble pebble;

    @BeforeAll
    static void startPebble() throws Exception {
        Files.createDirectories(dir.resolve("pebble"));
        pebble = new Pebble(dir.resolve("pebble"), Ports.free(), Ports.free());
    }

    @AfterAll
    static void stopPebble() throws Exception {
        pebble.close();
    }

    private static Path script(String name, String body) throws Exception {
        Path hook = dir.resolve(name);
        Files.writeString(hook, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwx------"));
        return hook;
    }

    @Test
    void aWildcardCertificateThroughTheHook() throws Exception {
        String api = pebble.challtestManagement();
        Path calls = dir.resolve("hook-calls");
        Path hook = script("river-dns-hook", "echo \"$1 $2\" >> " + calls + "\n"
                + "case \"$1\" in\n"
                + "  set) curl -sf -X POST -d \"{\\\"host\\\":\\\"$2.\\\",\\\"value\\\":\\\"$3\\\"}\" " + api + "/set-txt ;;\n"
                + "  clean) curl -sf -X POST -d \"{\\\"host\\\":\\\"$2.\\\"}\" " + api + "/clear-txt ;;\n"
                + "esac\necho \"hook did $1\" >&2\n");
        AcmeConfig config = new AcmeConfig(URI.create(pebble.directoryUrl()), List.of(), dir.resolve("store"), new AcmeConfig.Renewal.BeforeExpiry(30),
                AcmeConfig.Challenge.HTTP_01, Optional.empty(), 7,
                List.of(new AcmeConfig.Domain("*.river-dns.test", Optional.of(AcmeConfig.Challenge.DNS_01), Optional.of(hook))),
                AcmeConfig.KeyType.RSA_2048, Optional.of(pebble.caCertificate()));
        List<Duration> waited = new ArrayList<>();
        AcmeClient client = new AcmeClient(config, AcmeStore.open(config.storeDir()), new ChallengeBoard(), new CertificateManagerTest.Installs(),
                waited::add, Clock.systemUTC());
        try (LogCapture log = LogCapture.of(DnsHook.class.getName())) {
            StoredCertificate issued = client.issue(List.of("*.river-dns.test"));
            assertThat(issued.leaf().getSubjectAlternativeNames()).singleElement().satisfies(san -> assertThat(san.get(1)).isEqualTo("*.river-dns.test"));
            assertThat(issued.key().getAlgorithm()).isEqualTo("RSA");
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(pebble.root(), null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(issued.chain()), params);
            assertThat(Files.readAllLines(calls)).containsExactly("set _acme-challenge.river-dns.test", "clean _acme-challenge.river-dns.test");
            assertThat(waited).containsExactly(Duration.ofSeconds(7));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("set _acme-challenge.river-dns.test: stderr: hook did set"));
        }
    }

    @Test
    void theHooksFailuresAndTimeLimit() throws Exception {
        Path failing = script("failing-hook", "echo 'no API token' >&2\nexit 3\n");
        assertThatThrownBy(() -> new DnsHook().run(failing, "set", "_acme-challenge.example.com", "v"))
                .hasMessageContaining("exited with status 3: no API token");
        Path slow = script("slow-hook", "exec sleep 600\n");
        assertThatThrownBy(() -> new DnsHook(Duration.ofMillis(300)).run(slow, "set", "_acme-challenge.example.com", "v"))
                .hasMessageContaining("did not finish in 0 s (killed)");
        assertThatThrownBy(() -> new DnsHook().run(dir.resolve("missing-hook"), "set", "n", "v")).isInstanceOf(java.io.IOException.class);
    }
}
