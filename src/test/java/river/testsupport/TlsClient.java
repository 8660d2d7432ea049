package river.testsupport;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** A JDK TLS client asking for a name by SNI, verifying the chain against one trusted root and the name (HTTPS rules). */
public final class TlsClient {
    private TlsClient() {}

    /** The leaf certificate 127.0.0.1:{@code port} serves to a client asking for {@code name}; fails unless it verifies. */
    public static X509Certificate leaf(int port, String name, X509Certificate trusted) throws Exception {
        return chain(port, name, trusted).get(0);
    }

    /** The whole chain 127.0.0.1:{@code port} serves to a client asking for {@code name}, leaf first; fails unless it verifies. */
    public static List<X509Certificate> chain(int port, String name, X509Certificate trusted) throws Exception {
        try (SSLSocket socket = connect(port, name, trusted)) {
            return java.util.Arrays.stream(socket.getSession().getPeerCertificates()).map(c -> (X509Certificate) c).toList();
        }
    }

    /** A TLS connection to 127.0.0.1:{@code port} for {@code name}, its handshake done and verified; the caller closes it. */
    public static SSLSocket connect(int port, String name, X509Certificate trusted) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("root", trusted);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        Socket plain = new Socket("127.0.0.1", port);
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, name, port, true);
        try {
            SSLParameters params = socket.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(name)));
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return socket;
        } catch (Exception e) {
            socket.close();
            throw e;
        }
    }

    /** The test CA of {@link TestPki}, as a certificate to trust. */
    public static X509Certificate testCa() throws Exception {
        try (var in = java.nio.file.Files.newInputStream(TestPki.caCertificate())) {
            return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
