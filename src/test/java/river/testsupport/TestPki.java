package river.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The tests' certificates, made once per JVM (with the openssl tool) in a temporary directory, on
 * first use: a test CA, server certificates it signs for the names a test asks for, and River's
 * own test certificate ({@code compat/assets/test.crt}, "NOT FOR ACTUAL USE") for listeners.
 */
public final class TestPki {
    private TestPki() {}

    /** A certificate (PEM) and its unencrypted PKCS#8 key (PEM), on disk. */
    public record Pair(Path cert, Path key) {
        /** A Netty server context with this certificate (JDK or OpenSSL, Netty's choice). */
        public io.netty.handler.ssl.SslContext serverContext() throws javax.net.ssl.SSLException {
            return io.netty.handler.ssl.SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
        }

        /** Copies both files into {@code dir} as NAME.crt and NAME.key (for configs with relative paths). */
        public Pair copyTo(Path dir, String name) throws IOException {
            Pair copy = new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
            Files.copy(cert, copy.cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(key, copy.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return copy;
        }
    }

    private static final Map<String, Pair> ISSUED = new ConcurrentHashMap<>();
    private static Path dir;
    private static Pair ca;

    /** The test CA's certificate: what a client (or River's ca-path) trusts. */
    public static synchronized Path caCertificate() throws IOException, InterruptedException {
        return ca().cert();
    }

    /**
     * A certificate signed by the test CA with subject CN={@code commonName} and the given DNS names
     * (the common name too, if none) as subjectAltName; made once per JVM for each distinct request.
     */
    public static Pair server(String commonName, String... dnsNames) throws IOException, InterruptedException {
        return issue(commonName, dnsNames, "");
    }

    /**
     * Like {@link #server}, with an OCSP responder address in the certificate (authorityInfoAccess,
     * as a public CA's certificates have); nothing answers there: a test staples a response from
     * {@link #ocspResponse} instead.
     */
    public static Pair serverWithOcsp(String commonName, String... dnsNames) throws IOException, InterruptedException {
        return issue(commonName, dnsNames, "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n");
    }

    private static Pair issue(String commonName, String[] dnsNames, String moreExtensions) throws IOException, InterruptedException {
        List<String> names = dnsNames.length == 0 ? List.of(commonName) : Arrays.asList(dnsNames);
        String id = commonName + "|" + String.join(",", names) + "|" + moreExtensions;
        Pair existing = ISSUED.get(id);
        if (existing != null) {
            return existing;
        }
        synchronized (TestPki.class) {
            existing = ISSUED.get(id);
            if (existing != null) {
                return existing;
            }
            Pair issuer = ca();
            String base = "server-" + ISSUED.size();
            Path key = dir.resolve(base + ".key");
            Path csr = dir.resolve(base + ".csr");
            Path cert = dir.resolve(base + ".crt");
            Path ext = dir.resolve(base + ".ext");
            Files.writeString(ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    + "extendedKeyUsage=serverAuth\nsubjectAltName="
                    + names.stream().map(n -> "DNS:" + n).collect(Collectors.joining(",")) + "\n" + moreExtensions);
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + commonName,
                    "-keyout", key.toString(), "-out", csr.toString());
            openssl("x509", "-req", "-in", csr.toString(), "-CA", issuer.cert().toString(), "-CAkey", issuer.key().toString(),
                    "-set_serial", Long.toString(System.nanoTime() & Long.MAX_VALUE), "-days", "2", "-extfile", ext.toString(),
                    "-out", cert.toString());
            Pair pair = new Pair(cert, key);
            ISSUED.put(id, pair);
            return pair;
        }
    }

    /**
     * A fresh DER OCSP response, signed by the test CA, saying {@code certificate} is good (or
     * revoked) for the next day: what an operator's cron job fetches from the CA's responder
     * (openssl ocsp) for River to staple. Written to {@code out}.
     */
    public static Path ocspResponse(Pair certificate, boolean revoked, Path out) throws IOException, InterruptedException {
        Pair issuer = ca();
        Path work = Files.createTempDirectory(dir, "ocsp");
        String serial = openssl("x509", "-in", certificate.cert().toString(), "-noout", "-serial").strip().replace("serial=", "");
        String subject = openssl("x509", "-in", certificate.cert().toString(), "-noout", "-subject", "-nameopt", "compat")
                .strip().replace("subject=", "");
        // openssl ca's database: status, expiry, revocation time, serial, file, subject.
        String expiry = java.time.format.DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(java.time.Instant.now().plus(java.time.Duration.ofDays(2)));
        String revokedAt = revoked ? java.time.format.DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now().minusSeconds(3600)) : "";
        Files.writeString(work.resolve("index.txt"), (revoked ? "R" : "V") + "\t" + expiry + "\t" + revokedAt + "\t" + serial
                + "\tunknown\t" + subject + "\n");
        Path request = work.resolve("request.der");
        openssl("ocsp", "-issuer", issuer.cert().toString(), "-cert", certificate.cert().toString(), "-no_nonce",
                "-reqout", request.toString());
        openssl("ocsp", "-index", work.resolve("index.txt").toString(), "-rsigner", issuer.cert().toString(), "-rkey",
                issuer.key().toString(), "-CA", issuer.cert().toString(), "-reqin", request.toString(), "-ndays", "1",
                "-respout", out.toString());
        return out;
    }

    /** River's own test certificate and key (self-signed, CN "NOT FOR ACTUAL USE"), from the compat assets. */
    public static Pair riverTestCertificate() {
        try {
            Path assets = Path.of(TestPki.class.getResource("/compat/assets").toURI());
            return new Pair(assets.resolve("test.crt"), assets.resolve("test.key"));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static synchronized Pair ca() throws IOException, InterruptedException {
        if (ca == null) {
            dir = Files.createTempDirectory("river-test-pki");
            Path config = dir.resolve("ca.cnf");
            Files.writeString(config, """
                    [req]
                    distinguished_name = dn
                    prompt = no
                    x509_extensions = ca
                    [dn]
                    CN = River Test CA
                    [ca]
                    basicConstraints = critical,CA:TRUE
                    keyUsage = critical,keyCertSign,cRLSign
                    subjectKeyIdentifier = hash
                    """);
            Pair pair = new Pair(dir.resolve("ca.crt"), dir.resolve("ca.key"));
            openssl("req", "-x509", "-config", config.toString(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-keyout", pair.key().toString(), "-out", pair.cert().toString());
            ca = pair;
            Runtime.getRuntime().addShutdownHook(new Thread(TestPki::deleteDirectory));
        }
        return ca;
    }

    /** Runs the openssl tool; returns what it wrote. */
    private static String openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed:\n" + out);
        }
        return out;
    }

    private static void deleteDirectory() {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // A temporary directory left behind is harmless.
        }
    }
}
