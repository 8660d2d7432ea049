package river.upstream;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS towards a connector: the server name sent (SNI) and checked against the certificate, the
 * client context holding the trusted authorities, and the HTTP versions offered through ALPN.
 *
 * @param context the context offering the connector's HTTP versions
 * @param http1Context a context offering HTTP/1.1 only, for requests that need it (WebSocket)
 * @param offer the HTTP versions offered through ALPN with {@code context}
 * @param verify false turns off certificate and name checks (for testing only)
 */
public record UpstreamTls(SslContext context, SslContext http1Context, Offer offer, String serverName, boolean verify) {

    /** The HTTP versions River may speak to a connector (River's {@code proto}). */
    public enum Offer {
        HTTP1_ONLY(ApplicationProtocolNames.HTTP_1_1),
        HTTP2_ONLY(ApplicationProtocolNames.HTTP_2),
        HTTP2_OR_HTTP1(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

        private final String[] alpn;

        Offer(String... alpn) {
            this.alpn = alpn;
        }

        /** Whether HTTP/2 may be negotiated. */
        public boolean mayUseHttp2() {
            return this != HTTP1_ONLY;
        }
    }

    /**
     * A client context offering {@code offer} through ALPN and trusting the authorities in
     * {@code caFile} (PEM), or the JDK's roots when null; with {@code verify} false, trusting anything.
     */
    public static SslContext clientContext(Path caFile, boolean verify, Offer offer) throws IOException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() && !"jdk".equalsIgnoreCase(System.getProperty("river.tls")) ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        offer.alpn));
        if (!verify) {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (caFile != null) {
            builder.trustManager(caFile.toFile());
        }
        try {
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("upstream TLS" + (caFile == null ? "" : " with CA file " + caFile) + ": " + e.getMessage(), e);
        }
    }

    /**
     * The handler starting TLS on a new connection to {@code port}, checking the name when verifying.
     *
     * @param http1Only offer only HTTP/1.1, whatever the connector allows
     */
    SslHandler newHandler(ByteBufAllocator alloc, int port, boolean http1Only) {
        SslHandler handler = (http1Only ? http1Context : context).newHandler(alloc, serverName, port);
        if (verify) {
            SSLEngine engine = handler.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        return handler;
    }
}
