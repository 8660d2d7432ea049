package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import river.proxy.ProxyEngine;

/**
 * After the TLS handshake, sets the connection up for the protocol ALPN chose: HTTP/2 (one stream
 * channel per request, each through the same engine) or HTTP/1.1.
 */
public final class ProtocolSelector extends ApplicationProtocolNegotiationHandler {
    /** Streams a client may have open at once on one connection. */
    static final int MAX_CONCURRENT_STREAMS = 128;

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
            SocketAddress remote = ctx.channel().remoteAddress();
            InetSocketAddress client = remote instanceof InetSocketAddress inet ? inet : null;
            ctx.pipeline().addLast(
                    Http2FrameCodecBuilder.forServer()
                            .initialSettings(Http2Settings.defaultSettings()
                                    .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                                    .maxHeaderListSize(settings.maxRequestHeaderBytes()))
                            .validateHeaders(true)
                            .build(),
                    new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel stream) {
                            stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new io.netty.handler.stream.ChunkedWriteHandler(),
                                    new Http2StreamHandler(engine, client));
                        }
                    }));
        } else {
            ctx.pipeline().addLast(http1);
        }
    }
}
