package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import river.proxy.ProxyEngine;

/**
 * After the TLS handshake, sets the connection up for the protocol ALPN chose: HTTP/2 (one stream
 * channel per request, each through the same engine) or HTTP/1.1.
 */
public final class ProtocolSelector extends ApplicationProtocolNegotiationHandler {
    private final ProxyEngine engine;
    private final Http1ServerInitializer http1;
    private final Http1Settings settings;

    public ProtocolSelector(ProxyEngine engine, Http1ServerInitializer http1, Http1Settings settings) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.engine = engine;
        this.http1 = http1;
        this.settings = settings;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            Http2Pipeline.install(ctx.pipeline(), engine, settings, true);
        } else {
            ctx.pipeline().addLast(http1);
        }
    }
}
