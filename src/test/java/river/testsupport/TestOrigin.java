package river.testsupport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP/1.1 origin on a loopback port for integration tests. It records every request it gets
 * and counts the connections it accepts. Paths choose the behaviour:
 * <ul>
 *   <li>{@code /echo…} (and anything unknown): 200 with a text body listing method, URI, headers and
 *       the request body's length and SHA-256;
 *   <li>{@code /bytes?n=N}: N deterministic bytes ({@link #pattern}), streamed with backpressure;
 *       {@code &chunked=1} without Content-Length;
 *   <li>{@code /status?code=N}: an empty response with that status;
 *   <li>{@code /inspect?deny=TEXT}: an inspection service's verdict on the request body: an empty 403
 *       when the body contains TEXT, else an empty 200;
 *   <li>{@code /slow?ms=N}: the echo response after N milliseconds;
 *   <li>{@code /stall}: response head and a first chunk, then nothing;
 *   <li>{@code /hang}: never answers (so only a timeout of River's can end the request);
 *   <li>{@code /held}: answered only when the test calls {@link #releaseHeld()}: 200 "released", or
 *       with {@code ?n=N} what {@code /bytes?n=N} sends;
 *   <li>{@code /then-close-on-next}: the echo response; the next request on that connection is not
 *       answered but the connection closed, as when an origin's keep-alive timer fires just as a
 *       request arrives;
 *   <li>{@code /close}: closes the connection without answering;
 *   <li>{@code /then-close?ms=N}: the echo response, then closes the connection after N milliseconds;
 *   <li>{@code /garbage}: an invalid response;
 *   <li>{@code /trailers}: a chunked "with trailers" whose trailers are the request's, plus
 *       {@code x-origin-trailer: yes};
 *   <li>{@code /ws}: a WebSocket endpoint echoing text ("echo: " + text) and binary frames.
 * </ul>
 */
public final class TestOrigin implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closedConnections = new AtomicInteger();
    /** Accepted connections, closed with the origin as a dying process's would be. */
    private final io.netty.channel.group.ChannelGroup accepted =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final AtomicInteger requests = new AtomicInteger();
    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    /** Bytes the origin has handed to its socket for /bytes responses (to observe backpressure). */
    public final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicInteger stalledStreams = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
    private final AtomicInteger heldCount = new AtomicInteger();
    private static final io.netty.util.AttributeKey<Boolean> CLOSE_ON_NEXT = io.netty.util.AttributeKey.valueOf("closeOnNext");

    /** {@code /held} requests received and not yet released. */
    public int heldRequests() {
        return heldCount.get();
    }

    /** Answers every {@code /held} request received so far. */
    public void releaseHeld() {
        Runnable answer;
        while ((answer = held.poll()) != null) {
            heldCount.decrementAndGet();
            answer.run();
        }
    }

    /** /bytes responses now waiting for their socket to drain (the peer is not taking the bytes). */
    public int streamsWaitingToWrite() {
        return stalledStreams.get();
    }

    /** A request as the origin received it. */
    public record Seen(String method, String uri, io.netty.handler.codec.http.HttpHeaders headers, long bodyLength, String bodySha256) {}

    public TestOrigin() throws InterruptedException {
        this(null);
    }

    /** A cleartext origin on a given loopback address and port (0 for any), e.g. to come back on the same port. */
    public static TestOrigin at(String host, int port) throws InterruptedException {
        return new TestOrigin(null, 0, new InetSocketAddress(host, port));
    }


    /** What {@code /health} answers: 200 while true, 503 while false. */
    public final java.util.concurrent.atomic.AtomicBoolean healthy = new java.util.concurrent.atomic.AtomicBoolean(true);
    private final AtomicInteger healthChecks = new AtomicInteger();

    /** Requests to {@code /health} received so far (they are not counted as requests). */
    public int healthChecksReceived() {
        return healthChecks.get();
    }

    /** An origin speaking TLS with the given server context (null for cleartext). */
    public TestOrigin(io.netty.handler.ssl.SslContext tls) throws InterruptedException {
        this(tls, 0);
    }

    /**
     * An origin speaking TLS that offers HTTP/2 and HTTP/1.1 through ALPN, allowing each HTTP/2
     * connection {@code maxStreams} concurrent streams.
     */
    public static TestOrigin http2(java.io.File cert, java.io.File key, int maxStreams) throws Exception {
        io.netty.handler.ssl.SslContext tls = io.netty.handler.ssl.SslContextBuilder.forServer(cert, key)
                .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                        io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        "h2", "http/1.1"))
                .build();
        return new TestOrigin(tls, maxStreams);
    }

    private final AtomicInteger http2Connections = new AtomicInteger();
    /** How many coming HTTP/2 streams are reset with REFUSED_STREAM instead of being answered. */
    public final AtomicInteger refuseStreams = new AtomicInteger();
    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicInteger mostOpenStreams = new AtomicInteger();

    /** HTTP/2 connections accepted so far. */
    public int http2ConnectionsAccepted() {
        return http2Connections.get();
    }

    /** The most HTTP/2 streams that were open at once, over all connections. */
    public int mostConcurrentStreams() {
        return mostOpenStreams.get();
    }

    private void addHttp1(io.netty.channel.ChannelPipeline pipeline) {
        pipeline.addLast(new HttpServerCodec(), new HttpObjectAggregator(256 * 1024 * 1024),
                new io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler("/ws", null, false, 1 << 20), new WebSocketEcho(), new Handler());
    }

    private void addHttp2(io.netty.channel.ChannelPipeline pipeline, int maxStreams) {
        http2Connections.incrementAndGet();
        pipeline.addLast(io.netty.handler.codec.http2.Http2FrameCodecBuilder.forServer()
                        .initialSettings(io.netty.handler.codec.http2.Http2Settings.defaultSettings().maxConcurrentStreams(maxStreams))
                        .build(),
                new io.netty.handler.codec.http2.Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel stream) {
                        if (refuseStreams.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                            stream.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    io.netty.util.ReferenceCountUtil.release(msg);
                                    ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
                                            io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM));
                                }
                            });
                            return;
                        }
                        int now = openStreams.incrementAndGet();
                        mostOpenStreams.accumulateAndGet(now, Math::max);
                        stream.closeFuture().addListener(f -> openStreams.decrementAndGet());
                        stream.pipeline().addLast(new io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec(true),
                                new HttpObjectAggregator(256 * 1024 * 1024), new Handler());
                    }
                }));
    }

    private TestOrigin(io.netty.handler.ssl.SslContext tls, int http2MaxStreams) throws InterruptedException {
        this(tls, http2MaxStreams, new InetSocketAddress("127.0.0.1", 0));
    }

    private TestOrigin(io.netty.handler.ssl.SslContext tls, int http2MaxStreams, InetSocketAddress bindTo) throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.closeFuture().addListener(f -> closedConnections.incrementAndGet());
                        accepted.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        if (http2MaxStreams > 0) {
                            ch.pipeline().addLast(new io.netty.handler.ssl.ApplicationProtocolNegotiationHandler("http/1.1") {
                                @Override
                                protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                    if ("h2".equals(protocol)) {
                                        addHttp2(ctx.pipeline(), http2MaxStreams);
                                    } else {
                                        addHttp1(ctx.pipeline());
                                    }
                                }
                            });
                        } else {
                            addHttp1(ch.pipeline());
                        }
                    }
                })
                .bind(bindTo)
                .sync()
                .channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** {@code 127.0.0.1:PORT}, for a connector line. */
    public String address() {
        InetSocketAddress a = (InetSocketAddress) server.localAddress();
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    public int connectionsAccepted() {
        return connections.get();
    }

    /** Accepted connections that have since closed (either side closing them). */
    public int connectionsClosed() {
        return closedConnections.get();
    }

    public int requestsReceived() {
        return requests.get();
    }

    public java.util.List<Seen> seen() {
        return java.util.List.copyOf(seen);
    }

    public Seen lastSeen() {
        Seen last = null;
        for (Seen s : seen) {
            last = s;
        }
        return last;
    }

    /** The byte at position i of every /bytes body. */
    public static byte pattern(long i) {
        return (byte) ((i * 31 + (i >>> 11)) & 0xFF);
    }

    /** The byte at position i of a /bytes?noise body: letters a to p, about half as long once compressed. */
    public static byte noise(long i) {
        long z = (i + 0x9E3779B97F4A7C15L) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        return (byte) ('a' + ((z >>> 40) & 15));
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        accepted.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Echoes WebSocket text and binary frames on /ws, prefixed so a test sees the origin answered. */
    private static final class WebSocketEcho
            extends SimpleChannelInboundHandler<io.netty.handler.codec.http.websocketx.WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, io.netty.handler.codec.http.websocketx.WebSocketFrame frame) {
            if (frame instanceof io.netty.handler.codec.http.websocketx.TextWebSocketFrame text) {
                ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.TextWebSocketFrame("echo: " + text.text()));
            } else if (frame instanceof io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame binary) {
                ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(binary.content().retain()));
            }
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws Exception {
            if (request.uri().equals("/health")) {
                healthChecks.incrementAndGet();
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        healthy.get() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE);
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                ctx.writeAndFlush(r);
                return;
            }
            requests.incrementAndGet();
            if (ctx.channel().attr(CLOSE_ON_NEXT).getAndSet(null) != null) {
                ctx.close();
                return;
            }
            byte[] body = new byte[request.content().readableBytes()];
            request.content().getBytes(request.content().readerIndex(), body);
            seen.add(new Seen(request.method().name(), request.uri(), request.headers().copy(), body.length, sha256(body)));
            QueryStringDecoder q = new QueryStringDecoder(request.uri());
            Map<String, java.util.List<String>> params = q.parameters();
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            switch (q.path()) {
                case "/bytes" -> streamBytes(ctx, Long.parseLong(params.get("n").get(0)), params.containsKey("chunked"), keepAlive, params);
                case "/status" -> {
                    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.valueOf(Integer.parseInt(params.get("code").get(0))));
                    int code = r.status().code();
                    if (code != 204 && code != 304) {
                        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                    }
                    if (code == 304) {
                        r.headers().set(HttpHeaderNames.ETAG, "\"v1\"");
                    }
                    ctx.writeAndFlush(r);
                }
                case "/inspect" -> {
                    String deny = params.get("deny").get(0);
                    boolean denied = new String(body, StandardCharsets.ISO_8859_1).contains(deny);
                    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, denied ? HttpResponseStatus.FORBIDDEN : HttpResponseStatus.OK);
                    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                    ctx.writeAndFlush(r);
                }
                case "/slow" -> ctx.executor().schedule(() -> echo(ctx, request.method().name(), request, body, keepAlive),
                        Long.parseLong(params.get("ms").get(0)), TimeUnit.MILLISECONDS);
                case "/stall" -> {
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 1000);
                    ctx.write(head);
                    ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[10])));
                }
                case "/close" -> ctx.close();
                case "/trailers" -> {
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    ctx.write(head);
                    io.netty.handler.codec.http.DefaultLastHttpContent end = new io.netty.handler.codec.http.DefaultLastHttpContent(
                            Unpooled.copiedBuffer("with trailers\n", StandardCharsets.US_ASCII));
                    end.trailingHeaders().set(request.trailingHeaders()).set("x-origin-trailer", "yes");
                    ctx.writeAndFlush(end);
                }
                case "/held" -> {
                    java.util.List<String> n = params.get("n");
                    held.add(() -> ctx.executor().execute(() -> {
                        if (n != null) {
                            streamBytes(ctx, Long.parseLong(n.get(0)), false, keepAlive, Map.of());
                            return;
                        }
                        byte[] text = "released".getBytes(StandardCharsets.US_ASCII);
                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(text));
                        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
                        ctx.writeAndFlush(r);
                    }));
                    heldCount.incrementAndGet();
                }
                case "/then-close-on-next" -> {
                    ctx.channel().attr(CLOSE_ON_NEXT).set(Boolean.TRUE);
                    echo(ctx, request.method().name(), request, body, true);
                }
                case "/hang" -> {
                    // Holds the request unanswered until River gives up on it or the origin closes.
                }
                case "/then-close" -> {
                    // Answers normally (keep-alive), then closes the idle connection, as an origin's
                    // keep-alive timeout does.
                    echo(ctx, request.method().name(), request, body, true);
                    ctx.executor().schedule(() -> ctx.close(), Long.parseLong(params.get("ms").get(0)), TimeUnit.MILLISECONDS);
                }
                case "/garbage" -> {
                    ctx.pipeline().remove(HttpServerCodec.class);
                    ctx.writeAndFlush(Unpooled.copiedBuffer("NOT HTTP AT ALL\r\n\r\n", StandardCharsets.US_ASCII))
                            .addListener(ChannelFutureListener.CLOSE);
                }
                default -> echo(ctx, request.method().name(), request, body, keepAlive);
            }
        }

        private void echo(ChannelHandlerContext ctx, String method, FullHttpRequest request, byte[] body, boolean keepAlive) {
            StringBuilder text = new StringBuilder();
            text.append(method).append(' ').append(request.uri()).append('\n');
            for (Map.Entry<String, String> h : request.headers()) {
                text.append(h.getKey().toLowerCase()).append(": ").append(h.getValue()).append('\n');
            }
            text.append("body-length: ").append(body.length).append('\n');
            text.append("body-sha256: ").append(sha256(body)).append('\n');
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                    .set("x-origin", "test")
                    .set(HttpHeaderNames.CONNECTION, "x-origin-hop")
                    .set("x-origin-hop", "must not pass")
                    .set(HttpHeaderNames.ETAG, "\"abc\"");
            if (!keepAlive) {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            var f = ctx.writeAndFlush(r);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        /**
         * The /bytes body; {@code type=} sets its Content-Type, each {@code h=Name:Value} adds a header and
         * {@code code=} sets the status (a test of what River does to a response's head and body).
         */
        private void streamBytes(ChannelHandlerContext ctx, long n, boolean chunked, boolean keepAlive,
                Map<String, java.util.List<String>> params) {
            java.util.List<String> code = params.get("code");
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                    code == null ? HttpResponseStatus.OK : HttpResponseStatus.valueOf(Integer.parseInt(code.get(0))));
            if (chunked) {
                head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, n);
            }
            boolean noisy = params.containsKey("noise");
            java.util.List<String> type = params.get("type");
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, type == null ? "application/octet-stream" : type.get(0));
            for (String h : params.getOrDefault("h", java.util.List.of())) {
                int colon = h.indexOf(':');
                head.headers().add(h.substring(0, colon), h.substring(colon + 1));
            }
            ctx.write(head);
            new Object() {
                long sent;

                void pump() {
                    Channel ch = ctx.channel();
                    while (true) {
                        while (sent < n && ch.isWritable()) {
                            int size = (int) Math.min(64 * 1024, n - sent);
                            byte[] bytes = new byte[size];
                            for (int i = 0; i < size; i++) {
                                bytes[i] = noisy ? noise(sent + i) : pattern(sent + i);
                            }
                            ByteBuf buf = Unpooled.wrappedBuffer(bytes);
                            sent += size;
                            bytesWritten.addAndGet(size);
                            ctx.write(new DefaultHttpContent(buf));
                        }
                        if (sent >= n) {
                            var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                            if (!keepAlive) {
                                f.addListener(ChannelFutureListener.CLOSE);
                            }
                            return;
                        }
                        ctx.flush();
                        if (!ch.isActive()) {
                            return;
                        }
                        if (!ch.isWritable()) {
                            break;
                        }
                    }
                    // Continue once the socket drains.
                    stalledStreams.incrementAndGet();
                    ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelWritabilityChanged(ChannelHandlerContext c) {
                            if (c.channel().isWritable()) {
                                stalledStreams.decrementAndGet();
                                c.pipeline().remove(this);
                                pump();
                            }
                        }
                    });
                }
            }.pump();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
