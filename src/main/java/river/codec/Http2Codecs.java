package river.codec;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;

/**
 * Builders for River's HTTP/2 frame codecs, client side (to upstreams) and server side (from clients).
 *
 * <p>Both share out the peer's flow-control window among streams with Netty's
 * {@link WeightedFairQueueByteDistributor}, named here on purpose. River used Netty's
 * {@code UniformStreamByteDistributor} for a day (it skips RFC 7540's priority tree, which RFC 9113
 * deprecated, and measured 3 % less CPU per request), until a large response over cleartext HTTP/2
 * to curl stalled at 64 KiB and left the connection's event loop spinning in the flow controller's
 * {@code writePendingBytes} (its count of streamable bytes stayed above zero with no stream queued).
 * {@code PriorKnowledgeTest} holds that case.
 */
public final class Http2Codecs {
    private Http2Codecs() {}

    /** A builder for a server-side codec (connections from clients). */
    public static Http2FrameCodecBuilder forServer() {
        return new Builder(true);
    }

    /** A builder for a client-side codec (connections to upstreams). */
    public static Http2FrameCodecBuilder forClient() {
        return new Builder(false);
    }

    private static final class Builder extends Http2FrameCodecBuilder {
        Builder(boolean server) {
            // The connection says which side this is (the builder refuses server() beside connection()).
            Http2Connection connection = new DefaultHttp2Connection(server);
            // Set before the encoder is built, which keeps a flow controller it finds in place.
            connection.remote().flowController(
                    new DefaultHttp2RemoteFlowController(connection, new WeightedFairQueueByteDistributor(connection)));
            connection(connection);
            gracefulShutdownTimeoutMillis(0); // as Netty's forServer() and forClient() set it
        }
    }
}
