package river.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.Http2UnknownFrame;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import river.codec.Http2Codecs;
import river.proxy.ProxyEngine;

/** Sets a client connection up for HTTP/2: each stream through the engine ({@link Http2Streams}). */
final class Http2Pipeline {
    /** Streams a client may have open at once on one connection. */
    static final int MAX_CONCURRENT_STREAMS = 128;
    /**
     * SETTINGS and PING acknowledgements queued for a peer that does not read before the connection
     * is closed; our control-frame budget trips long before on a peer that floods.
     */
    static final int MAX_QUEUED_CONTROL_FRAMES = 1000;

    private Http2Pipeline() {}

    /**
     * Adds the HTTP/2 codec and the stream multiplexer at the end of {@code pipeline}.
     *
     * @param secure whether the connection is TLS (the requests' scheme)
     */
    static void install(ChannelPipeline pipeline, ProxyEngine engine, Http1Settings settings, boolean secure) {
        InetSocketAddress client = ClientAddress.of(pipeline.channel());
        Http2Drain drain = new Http2Drain();
        Http2AbuseGuard guard = new Http2AbuseGuard(Http2AbuseGuard.Budgets.defaults(), pipeline.channel().eventLoop().ticker());
        Http2ConnectionTimeouts timeouts = new Http2ConnectionTimeouts(
                settings.requestHeaderTimeoutMs(), settings.keepaliveIdleTimeoutMs(), settings.requestHeaderTimeoutMs());
        Http2FrameCodec codec = Http2Codecs.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(settings.connectionLimits().maxConcurrentStreams())
                        .connectProtocolEnabled(true)
                        .maxHeaderListSize(settings.maxRequestHeaderBytes()))
                .validateHeaders(true)
                // Netty's own mitigations, set explicitly so they are River's documented defaults:
                // received resets (Rapid Reset), resets River sends for errors, empty DATA and small
                // CONTINUATION floods, and the queue of SETTINGS/PING acks a peer that does not read builds.
                .decoderEnforceMaxRstFramesPerWindow(200, 30)
                .encoderEnforceMaxRstFramesPerWindow(200, 30)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .decoderEnforceMaxSmallContinuationFrames(10)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .frameLogger(guard)
                .build();
        GoAwayLastStream lastStream = new GoAwayLastStream();
        lastStream.watch(codec);
        LingeringClose linger = new LingeringClose();
        guard.watch(codec, lastStream, linger);
        timeouts.watch(codec);
        pipeline.addLast(
                // A response usually completes on an upstream connection's read, outside this
                // connection's read loop; consolidated, the frames of every stream answered in one
                // pass of the event loop leave in one TLS record batch and one write, not one each.
                new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                linger,
                timeouts,
                lastStream,
                codec,
                DiscardUnknownFrames.INSTANCE,
                new Http2Streams(engine, client, secure, drain, codec),
                drain);
    }

    /**
     * Frames of an unknown type are discarded on the connection (RFC 9113 §5.5), before the multiplexer:
     * River's streams have no use for them, and they are not flow-controlled, so Netty's
     * {@code AbstractHttp2StreamChannel} would queue each one, unbounded, for a stream that is not
     * reading (a WebSocket awaiting its upstream, a request under backpressure), and
     * {@code Http2MultiplexHandler.channelRead} never releases one for a stream it opened no channel for.
     */
    @ChannelHandler.Sharable
    static final class DiscardUnknownFrames extends ChannelInboundHandlerAdapter {
        static final DiscardUnknownFrames INSTANCE = new DiscardUnknownFrames();

        private DiscardUnknownFrames() {}

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2UnknownFrame) {
                ReferenceCountUtil.release(msg);
            } else {
                ctx.fireChannelRead(msg);
            }
        }
    }
}
