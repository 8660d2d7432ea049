package river.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.net.InetSocketAddress;
import river.proxy.ProxyEngine;

/** Sets a client connection up for HTTP/2: one stream channel per request, each through the engine. */
final class Http2Pipeline {
    /** Streams a client may have open at once on one connection. */
    static final int MAX_CONCURRENT_STREAMS = 128;

    private Http2Pipeline() {}

    /**
     * Adds the HTTP/2 codec and the stream multiplexer at the end of {@code pipeline}.
     *
     * @param secure whether the connection is TLS (the requests' scheme)
     */
    static void install(ChannelPipeline pipeline, ProxyEngine engine, Http1Settings settings, boolean secure) {
        InetSocketAddress client = ClientAddress.of(pipeline.channel());
        Http2Drain drain = new Http2Drain();
        pipeline.addLast(
                Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings()
                                .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                                .connectProtocolEnabled(true)
                                .maxHeaderListSize(settings.maxRequestHeaderBytes()))
                        .validateHeaders(true)
                        .build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        drain.streamOpened(stream);
                        stream.pipeline().addLast("extended-connect", new ExtendedConnect())
                                .addLast("http", new Http2StreamFrameToHttpObjectCodec(true))
                                .addLast("chunked-writer", new ChunkedWriteHandler())
                                .addLast("stream", new Http2StreamHandler(engine, client, secure));
                    }
                }),
                drain);
    }
}
