package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.acme.AcmeService;
import river.config.AcmeConfig;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.SystemOverrides;
import river.testsupport.FileWait;
import river.testsupport.LogCapture;
import river.testsupport.Pebble;
import river.testsupport.Ports;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;
import river.testsupport.TlsClient;

/**
 * Reloads that change the {@code acme} section itself, against Pebble (DNS-01 through a hook): the old client is
 * stopped (an order in flight abandoned: its hook killed, the store's lock released) and a client of the new section
 * takes over without a restart, ordering with the new hook and contact, renewing by the new rule, while the installed
 * certificate stays in service; a reload with an invalid acme section changes nothing and says where the error is.
 */
class AcmeReloadTest {
    private static final String NAME = "reload.river-acme.test";

    @TempDir
    static Path dir;
    static Pebble pebble;
    static TestOrigin origin;

    @BeforeAll
    static void startPebble() throws Exception {
        pebble = new Pebble(Files.createDirectories(dir.resolve("pebble")), Ports.free(), Ports.free());
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() throws Exception {
        origin.close();
        pebble.close();
    }

    private static String config(Path hook, String extra) throws Exception {
        return config("store", NAME, "      \"127.0.0.1:0\"\n", hook, extra);
    }

    private static String config(String store, String name, String cleartext, Path hook, String extra) throws Exception {
        return pebble.acmeSection(dir.resolve(store), "  dns-propagation-seconds 0\n  domain \"" + name + "\" challenge=\"dns-01\" hook=\"" + hook
                + "\"\n" + extra)
                + "services {\n  web {\n    listeners {\n" + cleartext + "      \"127.0.0.1:0\" acme-domains=\"" + name + "\"\n    }\n"
                + "    connectors {\n      \"" + origin.address() + "\"\n    }\n  }\n}\n";
    }

    private static Path stuckHook(Path holding) throws Exception {
        Path stuck = Files.writeString(dir.resolve("stuck-hook-" + holding.getFileName()), "#!/bin/sh\nif [ \"$1\" = set ]; then echo \"$2\" >> "
                + holding + "; exec sleep 600; fi\n");
        stuck.toFile().setExecutable(true, true);
        return stuck;
    }

    @Test
    void aServiceWaitingForItsCertificateStartsOnceTheReloadedSectionsClientHasIt() throws Exception {
        String name = "waiting.river-acme.test";
        Path holding = dir.resolve("holding-waiting");
        Path hook = pebble.dnsHook(dir.resolve("dns-hook-waiting"), dir.resolve("hook-calls-waiting"));
        try (LogCapture log = LogCapture.of("river.service");
                RiverHarness river = RiverHarness.start(config("store-waiting", name, "", stuckHook(holding), ""))) {
            int tls = ((java.net.InetSocketAddress) river.service("web").boundAddresses().get(0)).getPort();
            assertThat(FileWait.awaitContains(holding, "_acme-challenge." + name, () -> true)).isTrue();
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("not accepting until"));
            ReloadOutcome changed = reload(river, config("store-waiting", name, "", hook, ""));
            assertThat(changed.ok()).as(changed.toString()).isTrue();
            log.await("installed: accepting connections");
            assertThat(TlsClient.leaf(tls, name, pebble.root())).isEqualTo(river.server().acmeCertificate(List.of(name)).get(0));
        }
    }

    private static ReloadOutcome reload(RiverHarness river, String kdl) {
        return river.server().reload(() -> new ConfigLoader(dir).parse(kdl, "river.kdl", ConfigFormat.KDL, SystemOverrides.none()));
    }

    @Test
    void aChangedAcmeSectionAppliesAtTheReloadAndAnInvalidOneChangesNothing() throws Exception {
        Path holding = dir.resolve("holding");
        // A DNS provider that never answers: the first order stays in flight, holding the store's lock.
        Path stuck = stuckHook(holding);
        Path calls = dir.resolve("hook-calls");
        Path hook = pebble.dnsHook(dir.resolve("dns-hook"), calls);

        try (LogCapture log = LogCapture.of("river.acme");
                RiverHarness river = RiverHarness.start(config(stuck, "  contact \"mailto:old@river-acme.test\"\n"))) {
            int tls = ((java.net.InetSocketAddress) river.service("web").boundAddresses().get(1)).getPort();
            assertThat(FileWait.awaitContains(holding, "_acme-challenge." + NAME, () -> true)).isTrue();
            AcmeService first = river.server().acme().orElseThrow();

            // New hook and contact: the order in flight is abandoned and the new client orders at once.
            ReloadOutcome changed = reload(river, config(hook, "  contact \"mailto:new@river-acme.test\"\n"));
            assertThat(changed.ok()).as(changed.toString()).isTrue();
            log.await("abandoned, the store lock released");
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("killed: its order was abandoned"));
            AcmeService second = river.server().acme().orElseThrow();
            assertThat(second).isNotSameAs(first);
            assertThat(second.config().contacts()).extracting(Object::toString).containsExactly("mailto:new@river-acme.test");
            log.await("installed (newly issued");
            X509Certificate root = pebble.root();
            X509Certificate issued = river.server().acmeCertificate(List.of(NAME)).get(0);
            assertThat(TlsClient.leaf(tls, NAME, root)).isEqualTo(issued);
            assertThat(Files.readAllLines(calls)).containsExactly("set _acme-challenge." + NAME, "clean _acme-challenge." + NAME);
            assertThat(Files.readAllLines(holding)).hasSize(1);
            assertThat(pebble.ordersCreated()).isEqualTo(2); // the abandoned one and the new client's
            // The account the first client registered with the old contact now has the new one at the CA.
            assertThat(log.lines()).filteredOn(l -> l.contains("registered")).singleElement()
                    .satisfies(l -> assertThat(l).contains("mailto:old@river-acme.test"));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("contacts updated to [mailto:new@river-acme.test]"));

            // A new renewal rule: the new client installs the stored certificate, finds it due by the new rule, renews.
            ReloadOutcome rule = reload(river, config(hook, "  contact \"mailto:new@river-acme.test\"\n  renew-before-expiry-days 100000\n"));
            assertThat(rule.ok()).as(rule.toString()).isTrue();
            AcmeService third = river.server().acme().orElseThrow();
            assertThat(third.config().renewal()).isEqualTo(new AcmeConfig.Renewal.BeforeExpiry(100000));
            log.await("installed (newly issued", 2);
            X509Certificate renewed = river.server().acmeCertificate(List.of(NAME)).get(0);
            assertThat(renewed.getSerialNumber()).isNotEqualTo(issued.getSerialNumber());
            assertThat(TlsClient.leaf(tls, NAME, root)).isEqualTo(renewed);
            assertThat(pebble.ordersCreated()).isEqualTo(3);

            // An invalid acme section: located error, the running client and certificate stay.
            ReloadOutcome invalid = reload(river, config(hook, "  renew-before-expiry-days 10\n  renew-after-issue-days 10\n"));
            assertThat(invalid.ok()).isFalse();
            assertThat(invalid.errors()).anySatisfy(e -> assertThat(e).matches("river\\.kdl:\\d+:\\d+: .*"));
            assertThat(river.server().acme().orElseThrow()).isSameAs(third);
            assertThat(TlsClient.leaf(tls, NAME, root)).isEqualTo(renewed);
            assertThat(third.manager().failures(List.of(NAME))).isZero();
        }
    }
}
