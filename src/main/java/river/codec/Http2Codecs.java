package river.codec;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * Builders for River's HTTP/2 frame codecs, client side (to upstreams) and server side (from clients).
 *
 * <p>Both share out the peer's flow-control window among streams with Netty's
 * {@link UniformStreamByteDistributor} instead of its default, the weighted fair queue of RFC 7540's
 * priority tree. RFC 9113 deprecated that tree (§5.3), browsers and proxies no longer rely on it, and
 * River never honoured priorities; the weighted queue still built a node per stream and walked the tree
 * on every write — 5 % of River's user time per HTTP/2 request — to arrive at the same even shares.
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
                    new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
            connection(connection);
            gracefulShutdownTimeoutMillis(0); // as Netty's forServer() and forClient() set it
        }
    }
}
