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

        /** The key, parsed (unencrypted PKCS#8 PEM, EC or RSA), as an ACME client holds it. */
        public java.security.PrivateKey privateKey() throws IOException, java.security.GeneralSecurityException {
            String pem = Files.readString(key);
            String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            byte[] der = java.util.Base64.getDecoder().decode(base64);
            java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(der);
            try {
                return java.security.KeyFactory.getInstance("EC").generatePrivate(spec);
            } catch (java.security.spec.InvalidKeySpecException notEc) {
                return java.security.KeyFactory.getInstance("RSA").generatePrivate(spec);
            }
        }

        /** The certificates of the PEM file, leaf first. */
        public List<java.security.cert.X509Certificate> chain() throws IOException, java.security.GeneralSecurityException {
            try (java.io.InputStream in = Files.newInputStream(cert)) {
                List<java.security.cert.X509Certificate> chain = new ArrayList<>();
                for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    chain.add((java.security.cert.X509Certificate) c);
                }
                return chain;
            }
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

    /** The OID of RFC 8737's acmeIdentifier extension. */
    public static final String ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";

    /**
     * A TLS-ALPN-01 challenge certificate (RFC 8737 §3), as an ACME client makes one: self-signed for
     * {@code name} alone, with the critical acmeIdentifier extension holding {@code digest} (the
     * SHA-256 of the key authorization, 32 bytes).
     */
    public static Pair alpnChallenge(String name, byte[] digest) throws IOException, InterruptedException {
        ca(); // the working directory
        Path work = Files.createTempDirectory(dir, "alpn");
        StringBuilder hex = new StringBuilder("04:20");
        for (byte b : digest) {
            hex.append(':').append(String.format("%02X", b));
        }
        Pair pair = new Pair(work.resolve("challenge.crt"), work.resolve("challenge.key"));
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                "-addext", "subjectAltName=DNS:" + name, "-addext", ACME_IDENTIFIER_OID + "=critical,DER:" + hex,
                "-keyout", pair.key().toString(), "-out", pair.cert().toString());
        return pair;
    }

    /**
     * A client TLS context that trusts any server certificate and checks no host name: for tests that
     * look at which certificate was served rather than whether it verifies.
     */
    public static javax.net.ssl.SSLContext trustingEverything() throws java.security.GeneralSecurityException {
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        // An extended trust manager is trusted to do its own host check: this one does none.
        ssl.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType, java.net.Socket socket) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType, java.net.Socket socket) {}

            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        return ssl;
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
