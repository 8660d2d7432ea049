package river.acme;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.ListenAddress;
import river.server.InheritedListeners;
import river.server.ListenerBinding;
import river.server.Transport;

/**
 * The acme section's {@code challenge-listener}: a cleartext HTTP/1.1 listener of its own (one event loop) that
 * answers the HTTP-01 tokens in flight and redirects everything else to https on the same host and path (308).
 * Each connection gets one answer and is closed; requests are bounded (4 KiB line, 8 KiB headers, 10 s idle).
 */
public final class ChallengeListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChallengeListener.class);
    private static final String PREFIX = "/.well-known/acme-challenge/";

    private final EventLoopGroup group;
    private final Channel channel;

    private ChallengeListener(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    public static ChallengeListener bind(ListenAddress address, Transport transport, Function<String, CompletionStage<String>> board)
            throws IOException, InterruptedException {
        return bind(address, transport, board, InheritedListeners.none());
    }

    /** Binds the listener, or adopts the socket {@code inherited} offers for its address (an upgrade's hand-over). */
    public static ChallengeListener bind(ListenAddress address, Transport transport, Function<String, CompletionStage<String>> board,
            InheritedListeners inherited) throws IOException, InterruptedException {
        EventLoopGroup group = transport.newGroup(1, "acme-challenge");
        try {
            Channel channel = ListenerBinding.bind(address, group, transport, new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new ReadTimeoutHandler(10, TimeUnit.SECONDS), new HttpServerCodec(4096, 8192, 8192), new Answer(board));
                }
            }, inherited);
            LOG.info("ACME: challenge-listener on {} (HTTP-01 answers, everything else redirected to https)", channel.localAddress());
            return new ChallengeListener(group, channel);
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IOException("challenge-listener " + address + ": " + e.getMessage(), e);
        }
    }

    public java.net.SocketAddress localAddress() {
        return channel.localAddress();
    }

    /** The listening socket: handed over in an upgrade with the services' ones. */
    public Channel channel() {
        return channel;
    }

    /**
     * After an upgrade handed the socket over: stops accepting on it without closing it (the new process listens on
     * it now), and stops the event loop.
     */
    public void handedOver() {
        if (channel.isRegistered()) {
            channel.deregister().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static final class Answer extends SimpleChannelInboundHandler<HttpObject> {
        /** A token's key authorization or null: the board of whichever ACME client is current (a reload may replace it). */
        private final Function<String, CompletionStage<String>> board;
        private boolean answered;

        Answer(Function<String, CompletionStage<String>> board) {
            this.board = board;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (!(msg instanceof HttpRequest request) || answered) {
                return;
            }
            answered = true;
            String uri = request.uri();
            String path = uri.indexOf('?') < 0 ? uri : uri.substring(0, uri.indexOf('?'));
            if (!request.decoderResult().isSuccess() || !request.method().equals(HttpMethod.GET) || !path.startsWith(PREFIX)) {
                answer(ctx, request, null);
                return;
            }
            // In fleet mode the answer may come from Redis: written on this channel's loop once it is there.
            board.apply(path.substring(PREFIX.length())).whenComplete((keyAuthorization, error) -> {
                if (ctx.executor().inEventLoop()) {
                    answer(ctx, request, keyAuthorization);
                } else {
                    ctx.executor().execute(() -> answer(ctx, request, keyAuthorization));
                }
            });
        }

        private void answer(ChannelHandlerContext ctx, HttpRequest request, String keyAuthorization) {
            FullHttpResponse response;
            String uri = request.uri();
            String host = request.headers().get(HttpHeaderNames.HOST);
            if (keyAuthorization != null) {
                response = text(HttpResponseStatus.OK, keyAuthorization);
            } else if (!request.decoderResult().isSuccess() || host == null || host.isEmpty() || !uri.startsWith("/")
                    || !host.matches("[A-Za-z0-9.\\-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
                response = text(HttpResponseStatus.BAD_REQUEST, "bad request");
            } else {
                String name = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1)
                        : host.indexOf(':') < 0 ? host : host.substring(0, host.indexOf(':'));
                response = text(HttpResponseStatus.PERMANENT_REDIRECT, "");
                response.headers().set(HttpHeaderNames.LOCATION, "https://" + name + uri);
            }
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            if (bytes.length > 0) {
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            }
            return r;
        }
    }
}
