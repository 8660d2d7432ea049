package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import river.config.LoadBalanceConfig.HashKey;
import river.config.LoadBalanceConfig.Selection;

/** River's own example files (copied into test resources) must load unchanged. */
class CompatConfigTest {
    static final Path COMPAT = resource("/compat");

    static Path resource(String name) {
        try {
            return Path.of(CompatConfigTest.class.getResource(name).toURI());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static RiverConfig load(String file, ConfigFormat format) throws ConfigException {
        return new ConfigLoader(COMPAT).load(Path.of(file), format, SystemOverrides.none());
    }

    @ParameterizedTest
    @CsvSource({"assets/test-config.kdl, KDL", "assets/test-config.toml, TOML", "assets/example-config.toml, TOML",
        "river-0.8/assets/test-config.kdl, KDL", "river-0.8/assets/test-config-discovery.kdl, KDL", "river-0.8/assets/test-config-path-control.kdl, KDL",
        "river-0.8/assets/test-config-acme.kdl, KDL"})
    void riverExampleFilesValidate(String file, ConfigFormat format) throws ConfigException {
        assertThat(load(file, format).system().threadsPerService()).isEqualTo(8);
    }

    @Test
    void testConfigKdlHasTheValuesWrittenInIt() throws ConfigException {
        RiverConfig config = load("assets/test-config.kdl", ConfigFormat.KDL);
        assertThat(config.system().daemonize()).isFalse();
        assertThat(config.system().pidFile()).contains(Path.of("/tmp/river.pidfile"));
        assertThat(config.system().upgradeSocket()).contains(Path.of("/tmp/river-upgrade.sock"));
        assertThat(config.services()).extracting(ServiceConfig::name).containsExactly("Example1", "Example2", "Example3");

        ServiceConfig one = config.services().get(0);
        assertThat(one.listeners()).hasSize(2);
        assertThat(one.listeners().get(0).address()).isEqualTo(new ListenAddress.Tcp("0.0.0.0", 8080));
        assertThat(one.listeners().get(0).tls()).isEmpty();
        ListenerConfig tls = one.listeners().get(1);
        assertThat(tls.address()).isEqualTo(new ListenAddress.Tcp("0.0.0.0", 4443));
        assertThat(tls.tls()).hasValueSatisfying(t -> {
            assertThat(t.certPath()).contains(COMPAT.resolve("assets/test.crt"));
            assertThat(t.keyPath()).contains(COMPAT.resolve("assets/test.key"));
            assertThat(t.minVersion()).isEqualTo("1.2");
        });
        assertThat(tls.offerH2()).isTrue();

        ServiceHandler.Proxy proxy = (ServiceHandler.Proxy) one.handler();
        assertThat(proxy.loadBalance().selection()).isEqualTo(new Selection.Ketama(HashKey.URI_PATH));
        assertThat(proxy.loadBalance().healthCheck()).isInstanceOf(LoadBalanceConfig.HealthCheck.None.class);
        assertThat(proxy.connectors()).containsExactly(new ConnectorConfig("91.107.223.4", 443,
                java.util.Optional.of("onevariable.com"), UpstreamProto.H2_OR_H1, 1, java.util.Optional.empty(), true));

        assertThat(one.rateLimits()).hasSize(3);
        RateLimitRule.SourceIp sourceIp = (RateLimitRule.SourceIp) one.rateLimits().get(0);
        assertThat(sourceIp.maxBuckets()).isEqualTo(4000);
        assertThat(sourceIp.bucket()).isEqualTo(new RateLimitRule.TokenBucketSpec(10, 1, 10));
        RateLimitRule.SpecificUri specific = (RateLimitRule.SpecificUri) one.rateLimits().get(1);
        assertThat(specific.pattern().pattern()).isEqualTo("static/.*");
        assertThat(specific.maxBuckets()).isEqualTo(2000);
        assertThat(specific.bucket()).isEqualTo(new RateLimitRule.TokenBucketSpec(20, 5, 1));
        RateLimitRule.AnyMatchingUri any = (RateLimitRule.AnyMatchingUri) one.rateLimits().get(2);
        assertThat(any.pattern().pattern()).isEqualTo(".*\\.mp4");
        assertThat(any.bucket()).isEqualTo(new RateLimitRule.TokenBucketSpec(50, 2, 3));

        PathControlConfig pc = one.pathControl();
        FilterConfig.BlockCidrRange block = (FilterConfig.BlockCidrRange) pc.requestFilters().get(0);
        assertThat(block.ranges()).extracting(CidrRange::toString)
                .containsExactly("192.168.0.0/16", "10.0.0.0/8", "2001:db8::/32");
        assertThat(pc.upstreamRequest()).hasSize(2);
        assertThat(((FilterConfig.RemoveHeaderKeyRegex) pc.upstreamRequest().get(0)).pattern().pattern()).isEqualTo(".*(secret|SECRET).*");
        assertThat(pc.upstreamRequest().get(1)).isEqualTo(new FilterConfig.UpsertHeader("x-proxy-friend", "river"));
        assertThat(((FilterConfig.RemoveHeaderKeyRegex) pc.upstreamResponse().get(0)).pattern().pattern()).isEqualTo(".*ETag.*");
        assertThat(pc.upstreamResponse().get(1)).isEqualTo(new FilterConfig.UpsertHeader("x-with-love-from", "river"));

        ServiceConfig two = config.services().get(1);
        assertThat(((ServiceHandler.Proxy) two.handler()).connectors()).containsExactly(
                new ConnectorConfig("91.107.223.4", 80, java.util.Optional.empty(), UpstreamProto.H1_ONLY, 1, java.util.Optional.empty(), true));
        assertThat(two.pathControl()).isEqualTo(PathControlConfig.empty());

        ServiceConfig three = config.services().get(2);
        assertThat(three.handler()).isEqualTo(new ServiceHandler.FileServer(COMPAT));
        assertThat(three.listeners()).hasSize(2);
    }

    @Test
    void testConfigTomlMapsToTheSameModel() throws ConfigException {
        RiverConfig config = load("assets/test-config.toml", ConfigFormat.TOML);
        assertThat(config.services()).extracting(ServiceConfig::name).containsExactly("Example1", "Example2");
        ServiceConfig one = config.services().get(0);
        assertThat(one.listeners()).extracting(ListenerConfig::address)
                .containsExactly(new ListenAddress.Tcp("0.0.0.0", 8080), new ListenAddress.Tcp("0.0.0.0", 4443));
        assertThat(one.listeners().get(1).tls()).isPresent();
        assertThat(((ServiceHandler.Proxy) one.handler()).connectors()).containsExactly(new ConnectorConfig("91.107.223.4", 443,
                java.util.Optional.of("onevariable.com"), UpstreamProto.H2_OR_H1, 1, java.util.Optional.empty(), true));
        assertThat(one.pathControl().upstreamRequest().get(1)).isEqualTo(new FilterConfig.UpsertHeader("x-proxy-friend", "river"));
        assertThat(one.pathControl().upstreamResponse()).hasSize(2);
        assertThat(config.services().get(1).listeners()).containsExactly(
                new ListenerConfig(new ListenAddress.Tcp("0.0.0.0", 8000), java.util.Optional.empty(), false, false));
    }

    @Test
    void river08DiscoveryExampleValidatesWithItsValues() throws ConfigException {
        RiverConfig config = load("river-0.8/assets/test-config-discovery.kdl", ConfigFormat.KDL);
        assertThat(config.services()).extracting(ServiceConfig::name).containsExactly("Headless", "Discovered", "Mixed");
        ServiceHandler.Proxy headless = (ServiceHandler.Proxy) config.services().get(0).handler();
        assertThat(headless.loadBalance().refreshBounds()).isEqualTo(new LoadBalanceConfig.RefreshBounds(5, 300));
        assertThat(headless.loadBalance().healthCheck()).isEqualTo(new LoadBalanceConfig.HealthCheck.Tcp(java.util.Optional.empty(),
                new LoadBalanceConfig.Schedule(5000, 1000, 2, 1, false)));
        ConnectorConfig dns = headless.connectors().get(0);
        assertThat(dns.source()).isEqualTo(new ConnectorConfig.Source.Dns("app.internal.example.com", 8000));
        assertThat(dns.timeouts()).isEqualTo(new ConnectorConfig.Timeouts(1000, 0, 30000, 0, 0));
        assertThat(dns.refresh()).isEqualTo(ConnectorConfig.Refresh.TTL);

        ServiceHandler.Proxy discovered = (ServiceHandler.Proxy) config.services().get(1).handler();
        assertThat(discovered.loadBalance().healthCheck()).isEqualTo(new LoadBalanceConfig.HealthCheck.Http("api.example.com", "/healthz", true,
                200, java.util.Optional.empty(), false, new LoadBalanceConfig.Schedule(10000, 2000, 3, 1, false)));
        ConnectorConfig srv = discovered.connectors().get(0);
        assertThat(srv.source()).isEqualTo(new ConnectorConfig.Source.Srv("_https._tcp.api.example.com"));
        assertThat(srv.tlsFromName()).isTrue();
        assertThat(srv.proto()).isEqualTo(UpstreamProto.H2_OR_H1);
        assertThat(discovered.connectors().get(1).refresh()).isEqualTo(new ConnectorConfig.Refresh(30, 0, 0));
        assertThat(discovered.connectors().get(1).tls()).isFalse();

        ServiceHandler.Proxy mixed = (ServiceHandler.Proxy) config.services().get(2).handler();
        assertThat(mixed.connectors()).extracting(ConnectorConfig::address)
                .containsExactly("10.0.0.1:8000", "dns \"pool.internal.example.com\" port=8000");
    }

    @Test
    void river08AcmeExampleValidatesWithItsValues() throws ConfigException {
        RiverConfig config = load("river-0.8/assets/test-config-acme.kdl", ConfigFormat.KDL);
        AcmeConfig acme = config.acme().orElseThrow();
        assertThat(acme.directory()).isEqualTo(AcmeConfig.LETSENCRYPT_STAGING);
        assertThat(acme.contacts()).containsExactly("mailto:ops@example.com");
        assertThat(acme.storeDir()).isEqualTo(Path.of("/var/lib/river/acme"));
        assertThat(acme.renewal()).isEqualTo(new AcmeConfig.Renewal.BeforeExpiry(30));
        assertThat(acme.challenge()).isEqualTo(AcmeConfig.Challenge.HTTP_01);
        assertThat(acme.challengeListener()).contains(new ListenAddress.Tcp("0.0.0.0", 80));
        assertThat(acme.dnsPropagationSeconds()).isEqualTo(60);
        assertThat(acme.domains()).containsExactly(new AcmeConfig.Domain("*.example.com", java.util.Optional.of(AcmeConfig.Challenge.DNS_01),
                java.util.Optional.of(Path.of("/usr/local/bin/river-dns-hook"))));
        assertThat(acme.challengeFor("*.example.com")).isEqualTo(AcmeConfig.Challenge.DNS_01);
        assertThat(config.services().get(0).listeners().get(1).acmeDomains()).containsExactly("example.com", "www.example.com");
        assertThat(config.services().get(1).listeners().get(0).acmeDomains()).containsExactly("*.example.com");
    }

    @Test
    void exampleTomlHasNoServices() throws ConfigException {
        assertThat(load("assets/example-config.toml", ConfigFormat.TOML).services()).isEqualTo(List.of());
    }
}
