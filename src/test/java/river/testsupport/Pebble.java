package river.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Let's Encrypt's test CA (Debian's {@code pebble}, 2.4.0) on loopback, with {@code pebble-challtestsrv} as its
 * DNS server (every name resolves to 127.0.0.1; TXT records set through its management API). Pebble validates
 * HTTP-01 at {@code httpPort} and TLS-ALPN-01 at {@code tlsPort} of 127.0.0.1, where the test's River listens.
 * Pebble's own HTTPS uses a certificate from {@link TestPki} for "localhost": River trusts it through the acme
 * section's {@code ca-certificate-path} ({@link #caCertificate}), never by turning verification off.
 * Validation is immediate ({@code PEBBLE_VA_NOSLEEP}), no nonce is rejected and no authorization reused, so that
 * each order goes through its challenges.
 */
public final class Pebble implements AutoCloseable {
    private final Path dir;
    private final int acmePort;
    private final int managementPort;
    private final int dnsPort;
    private final int challtestManagementPort;
    private final Process challtestsrv;
    private Process pebble;
    private int starts;
    private final int httpPort;
    private final int tlsPort;
    private final long validitySeconds;

    public Pebble(Path dir, int httpPort, int tlsPort) throws IOException, InterruptedException {
        this(dir, httpPort, tlsPort, 0);
    }

    /**
     * With {@code validitySeconds} > 0, the certificates Pebble issues are valid that long (its config's
     * {@code certificateValidityPeriod}) rather than Pebble's five years: a renewal can then fall due within a test.
     */
    public Pebble(Path dir, int httpPort, int tlsPort, long validitySeconds) throws IOException, InterruptedException {
        this.dir = dir;
        this.httpPort = httpPort;
        this.tlsPort = tlsPort;
        this.validitySeconds = validitySeconds;
        acmePort = Ports.free();
        managementPort = Ports.free();
        dnsPort = Ports.free();
        challtestManagementPort = Ports.free();
        Path challtestLog = dir.resolve("challtestsrv.log");
        challtestsrv = new ProcessBuilder("pebble-challtestsrv", "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "",
                "-tlsalpn01", "", "-management", "127.0.0.1:" + challtestManagementPort, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
                .redirectErrorStream(true).redirectOutput(challtestLog.toFile()).start();
        if (!FileWait.awaitContains(challtestLog, "Starting management server", challtestsrv::isAlive)) {
            throw new IOException("pebble-challtestsrv did not start: " + Files.readString(challtestLog));
        }
        start();
    }

    /** Starts Pebble (again, after {@link #stop}: a new CA, with new roots and no accounts). */
    public void start() throws IOException, InterruptedException {
        TestPki.Pair tls = TestPki.server("localhost", "localhost");
        Path config = dir.resolve("pebble-config.json");
        Files.writeString(config, "{\"pebble\": {\"listenAddress\": \"127.0.0.1:" + acmePort + "\", \"managementListenAddress\": \"127.0.0.1:"
                + managementPort + "\", \"certificate\": \"" + tls.cert() + "\", \"privateKey\": \"" + tls.key() + "\", \"httpPort\": " + httpPort
                + ", \"tlsPort\": " + tlsPort + ", \"ocspResponderURL\": \"\", \"externalAccountBindingRequired\": false"
                + (validitySeconds > 0 ? ", \"certificateValidityPeriod\": " + validitySeconds : "") + "}}\n");
        Path log = dir.resolve("pebble-" + ++starts + ".log");
        ProcessBuilder builder = new ProcessBuilder("pebble", "-config", config.toString(), "-dnsserver", "127.0.0.1:" + dnsPort)
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("PEBBLE_VA_NOSLEEP", "1");
        builder.environment().put("PEBBLE_VA_ALWAYS_VALID", "0");
        builder.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
        builder.environment().put("PEBBLE_AUTHZREUSE", "0");
        pebble = builder.start();
        if (!FileWait.awaitContains(log, "ACME directory available at", pebble::isAlive)) {
            throw new IOException("pebble did not start: " + Files.readString(log));
        }
    }

    /** Stops Pebble (the CA is down); challtestsrv keeps running. */
    public void stop() throws InterruptedException {
        pebble.destroy();
        pebble.waitFor(10, TimeUnit.SECONDS);
    }

    /** The directory URL for the acme section's {@code provider}. */
    public String directoryUrl() {
        return "https://localhost:" + acmePort + "/dir";
    }

    /**
     * River's {@code acme} section for this Pebble: provider, terms accepted, {@code store}, the CA certificate
     * River trusts for Pebble's HTTPS, then {@code extra} (further lines, each ending in a newline).
     */
    public String acmeSection(Path store, String extra) throws IOException, InterruptedException {
        return "acme {\n  provider \"" + directoryUrl() + "\"\n  accept-terms-of-service true\n"
                + "  store-dir \"" + store + "\"\n  ca-certificate-path \"" + caCertificate() + "\"\n" + extra + "}\n";
    }

    /** What River trusts for Pebble's HTTPS ({@code ca-certificate-path}). */
    public Path caCertificate() throws IOException, InterruptedException {
        return TestPki.caCertificate();
    }

    /** Pebble's current root, from its management interface ({@code /roots/0}): what issued chains are verified against. */
    public X509Certificate root() throws Exception {
        HttpResponse<InputStream> r = client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + managementPort + "/roots/0")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** Sets a TXT record through challtestsrv's management API (what a DNS-01 hook script does with curl). */
    public String challtestManagement() {
        return "http://127.0.0.1:" + challtestManagementPort;
    }

    /**
     * Writes a DNS-01 hook (River 0.8's {@code hook set|clean NAME VALUE}) that sets and clears the TXT record through
     * challtestsrv's API with curl, as an operator's hook calls a DNS provider's, and appends each call
     * ({@code "set NAME"}) to {@code calls}.
     */
    public Path dnsHook(Path file, Path calls) throws IOException {
        String api = challtestManagement();
        Files.writeString(file, "#!/bin/sh\necho \"$1 $2\" >> " + calls + "\n"
                + "case \"$1\" in\n"
                + "  set) curl -sf -X POST -d \"{\\\"host\\\":\\\"$2.\\\",\\\"value\\\":\\\"$3\\\"}\" " + api + "/set-txt ;;\n"
                + "  clean) curl -sf -X POST -d \"{\\\"host\\\":\\\"$2.\\\"}\" " + api + "/clear-txt ;;\n"
                + "esac\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return file;
    }

    /** How many orders Pebble's logs (of every start) say it created. */
    public int ordersCreated() throws IOException {
        int n = 0;
        for (int i = 1; i <= starts; i++) {
            n += Files.readString(dir.resolve("pebble-" + i + ".log"), StandardCharsets.UTF_8).split("Added order ", -1).length - 1;
        }
        return n;
    }

    private static HttpClient client() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(TestPki.caCertificate())) {
            trust.setCertificateEntry("test-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(tls).build();
    }

    @Override
    public void close() throws InterruptedException {
        if (pebble != null) {
            stop();
        }
        challtestsrv.destroy();
        challtestsrv.waitFor(10, TimeUnit.SECONDS);
    }
}
