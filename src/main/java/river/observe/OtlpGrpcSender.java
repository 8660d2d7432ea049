package river.observe;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * OTLP/gRPC export on Netty's HTTP/2 client, so that {@code protocol "grpc"} needs no gRPC library: the
 * SDK's {@code OtlpGrpcSpanExporter} marshals each batch and hands it here as a unary call
 * ({@code POST /opentelemetry.proto.collector.trace.v1.TraceService/Export}, a length-prefixed message,
 * {@code grpc-status} in the trailers). One connection (cleartext HTTP/2 with prior knowledge for
 * {@code http://}, TLS with ALPN {@code h2} for {@code https://}), opened on first use and again after it
 * closed, on one daemon thread of its own: never on River's event loops. Each call has the exporter's
 * timeout; a failure goes back to the SDK, which counts the batch as dropped.
 */
final class OtlpGrpcSender implements GrpcSender {
    /** Responses larger than this are refused (an export answer is a few bytes). */
    private static final int MAX_RESPONSE_BYTES = 4 << 20;

    private final URI endpoint;
    private final String path;
    private final long timeoutMs;
    private final int connectTimeoutMs;
    private final SslContext tls;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("river-otlp-grpc", true), NioIoHandler.newFactory());
    /** The connection, or null; read and written on {@link #group}'s thread only. */
    private Channel connection;

    private OtlpGrpcSender(GrpcSenderConfig config) {
        this.endpoint = config.getEndpoint();
        this.path = "/" + config.getFullMethodName();
        this.timeoutMs = Math.max(1, config.getTimeout().toMillis());
        this.connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, config.getConnectTimeout().toMillis()));
        try {
            this.tls = "https".equalsIgnoreCase(endpoint.getScheme()) ? SslContextBuilder.forClient()
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                    .build() : null;
        } catch (SSLException e) {
            throw new IllegalStateException("OTLP gRPC TLS: " + e.getMessage(), e);
        }
    }

    /** What the SDK's exporter loads its gRPC sender from ({@code OtlpGrpcSpanExporterBuilder.setComponentLoader}): this one. */
    static final io.opentelemetry.common.ComponentLoader LOADER = new io.opentelemetry.common.ComponentLoader() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> Iterable<T> load(Class<T> type) {
            if (type == GrpcSenderProvider.class) {
                GrpcSenderProvider provider = OtlpGrpcSender::new;
                return java.util.List.of((T) provider);
            }
            return java.util.List.of();
        }
    };

    @Override
    public void send(MessageWriter writer, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        int length = writer.getContentLength();
        ByteBuf message = io.netty.buffer.Unpooled.buffer(5 + length);
        try {
            message.writeByte(0).writeInt(length); // not compressed, then the length
            writer.writeMessage(new ByteBufOutputStream(message));
        } catch (IOException | RuntimeException e) {
            message.release();
            onError.accept(e);
            return;
        }
        group.execute(() -> connected(message, onResponse, onError));
    }

    /** On the sender's thread: opens the connection if there is none, then the call's stream. */
    private void connected(ByteBuf message, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        if (connection != null && connection.isActive()) {
            call(connection, message, onResponse, onError);
            return;
        }
        int port = endpoint.getPort() > 0 ? endpoint.getPort() : tls != null ? 443 : 80;
        ChannelFuture connecting = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), endpoint.getHost(), port));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                // The collector opens no streams of its own.
                            }
                        }));
                    }
                })
                .connect(endpoint.getHost(), port);
        connection = connecting.channel();
        connecting.addListener(f -> {
            if (f.isSuccess()) {
                call(connecting.channel(), message, onResponse, onError);
            } else {
                message.release();
                onError.accept(f.cause());
            }
        });
    }

    private void call(Channel parent, ByteBuf message, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        Call call = new Call(onResponse, onError);
        new Http2StreamChannelBootstrap(parent).handler(call).open().addListener(f -> {
            if (!f.isSuccess()) {
                message.release();
                call.failed(f.cause());
                return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            call.timeout = stream.eventLoop().schedule(() -> {
                call.failed(new TimeoutException("OTLP export to " + endpoint + " took over " + timeoutMs + " ms"));
                stream.close();
            }, timeoutMs, TimeUnit.MILLISECONDS);
            Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme(tls != null ? "https" : "http").path(path)
                    .authority(endpoint.getAuthority()).add("content-type", "application/grpc").add("te", "trailers");
            stream.write(new DefaultHttp2HeadersFrame(headers, false));
            stream.writeAndFlush(new DefaultHttp2DataFrame(message, true));
        });
    }

    /** One unary call's stream: the response's data and its status, reported once. */
    private final class Call extends SimpleChannelInboundHandler<Http2StreamFrame> {
        final Consumer<GrpcResponse> onResponse;
        final Consumer<Throwable> onError;
        final CompositeByteBuf body = io.netty.buffer.Unpooled.compositeBuffer();
        ScheduledFuture<?> timeout;
        boolean reported;

        Call(Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
            this.onResponse = onResponse;
            this.onError = onError;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            if (reported) {
                return; // the outcome is known (a timeout, an oversized answer): the rest is dropped
            }
            if (frame instanceof Http2DataFrame data) {
                if (body.readableBytes() + data.content().readableBytes() > MAX_RESPONSE_BYTES) {
                    failed(new IOException("OTLP export response over " + MAX_RESPONSE_BYTES + " bytes"));
                    ctx.close();
                    return;
                }
                body.addComponent(true, data.content().retain());
                if (data.isEndStream()) {
                    failed(new IOException("OTLP export response without grpc-status"));
                }
            } else if (frame instanceof Http2HeadersFrame head) {
                CharSequence status = head.headers().get("grpc-status");
                if (status != null) {
                    // The trailers (or a trailers-only answer): the call's outcome.
                    CharSequence text = head.headers().get("grpc-message");
                    answered(GrpcStatusCode.fromValue(Integer.parseInt(status.toString().trim())),
                            text == null ? null : URLDecoder.decode(text.toString(), StandardCharsets.UTF_8));
                    ctx.close();
                } else if (head.isEndStream()) {
                    failed(new IOException("OTLP export answered HTTP " + head.headers().status() + " without grpc-status"));
                }
            }
        }

        private void answered(GrpcStatusCode code, String description) {
            byte[] bytes = new byte[Math.max(0, body.readableBytes() - 5)];
            if (body.readableBytes() >= 5) {
                body.getBytes(5, bytes);
            }
            if (report()) {
                onResponse.accept(new GrpcResponse() {
                    @Override
                    public GrpcStatusCode getStatusCode() {
                        return code;
                    }

                    @Override
                    public String getStatusDescription() {
                        return description;
                    }

                    @Override
                    public byte[] getResponseMessage() {
                        return bytes;
                    }
                });
            }
        }

        void failed(Throwable cause) {
            if (report()) {
                onError.accept(cause);
            }
        }

        /** Whether this is the call's first outcome (then the timer and the buffered body are done with). */
        private boolean report() {
            if (reported) {
                return false;
            }
            reported = true;
            if (timeout != null) {
                timeout.cancel(false);
            }
            body.release();
            return true;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failed(new IOException("OTLP export stream to " + endpoint + " closed before its status"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failed(cause);
            ctx.close();
        }
    }

    @Override
    public CompletableResultCode shutdown() {
        CompletableResultCode done = new CompletableResultCode();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> done.succeed());
        return done;
    }
}
