package river.upstream;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS towards a connector: the server name sent (SNI) and checked against the certificate, and the
 * client context holding the trusted authorities. HTTP/1.1 is offered through ALPN.
 *
 * @param verify false turns off certificate and name checks (for testing only)
 */
public record UpstreamTls(SslContext context, String serverName, boolean verify) {

    /**
     * A client context trusting the authorities in {@code caFile} (PEM), or the JDK's roots when
     * null; with {@code verify} false, trusting anything.
     */
    public static SslContext clientContext(Path caFile, boolean verify) throws IOException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() && !"jdk".equalsIgnoreCase(System.getProperty("river.tls")) ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1));
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

    /** The handler starting TLS on a new connection to {@code port}, checking the name when verifying. */
    SslHandler newHandler(ByteBufAllocator alloc, int port) {
        SslHandler handler = context.newHandler(alloc, serverName, port);
        if (verify) {
            SSLEngine engine = handler.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        return handler;
    }
}
