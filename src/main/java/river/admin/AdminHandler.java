package river.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.service.ReloadOutcome;
import river.service.RiverServer;

/** One admin connection: the bearer token, then the endpoint by path and method; one request at a time. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    private static final String GET = "GET, HEAD";
    private static final String POST = "POST";

    /** What every connection's handler answers from: the server, the reload queue, the token's digest. */
    static final class Endpoints {
        final RiverServer server;
        final AdminServer.Reloader reloader;
        /** SHA-256 of the token, or null when none is required. */
        final byte[] tokenDigest;
        final ExpositionFormatWriter prometheusText = PrometheusTextFormatWriter.create();
        final ExpositionFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

        Endpoints(RiverServer server, AdminServer.Reloader reloader, byte[] token) {
            this.server = server;
            this.reloader = reloader;
            this.tokenDigest = token == null ? null : sha256(token);
        }
    }

    private final Endpoints endpoints;
    /** A request is being answered later (a reload): nothing more is read meanwhile, so answers stay in order. */
    private boolean busy;

    AdminHandler(Endpoints endpoints) {
        this.endpoints = endpoints;
    }

    /** A unix-socket peer must be River's own user or root (epoll tells; over TCP, and with NIO, anyone who connects). */
    static boolean samePeer(Channel ch) throws IOException {
        return !(ch instanceof io.netty.channel.epoll.EpollDomainSocketChannel unix) || river.server.ListenerHandover.samePeer(unix);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (!request.decoderResult().isSuccess()) {
            answer(ctx, false, false, json(HttpResponseStatus.BAD_REQUEST, error("malformed request")));
            return;
        }
        if (!authorized(request)) {
            FullHttpResponse r = json(HttpResponseStatus.UNAUTHORIZED, error("this admin listener needs Authorization: Bearer <token>"));
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"river-admin\"");
            answer(ctx, keepAlive, head, r);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        switch (path) {
            case "/metrics", "/health", "/ready", "/config" -> {
                if (!method.equals(HttpMethod.GET) && !head) {
                    answer(ctx, keepAlive, head, notAllowed(GET));
                    return;
                }
                answer(ctx, keepAlive, head, switch (path) {
                    case "/metrics" -> metrics(request.headers().get(HttpHeaderNames.ACCEPT));
                    case "/health" -> json(HttpResponseStatus.OK, JSON.createObjectNode().put("status", "alive"));
                    case "/ready" -> ready();
                    default -> json(HttpResponseStatus.OK, ConfigJson.of(endpoints.server.config()));
                });
            }
            case "/reload" -> {
                if (!method.equals(HttpMethod.POST)) {
                    answer(ctx, keepAlive, head, notAllowed(POST));
                    return;
                }
                reload(ctx, keepAlive);
            }
            default -> answer(ctx, keepAlive, head, json(HttpResponseStatus.NOT_FOUND,
                    error("no such admin endpoint; there are GET /metrics, /health, /ready, /config and POST /reload")));
        }
    }

    private boolean authorized(FullHttpRequest request) {
        if (endpoints.tokenDigest == null) {
            return true;
        }
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        // Digests of equal length, compared in constant time: neither the token nor its length leaks.
        byte[] given = sha256(authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(given, endpoints.tokenDigest);
    }

    private FullHttpResponse metrics(String accept) {
        boolean openMetrics = accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("application/openmetrics-text");
        ExpositionFormatWriter writer = openMetrics ? endpoints.openMetrics : endpoints.prometheusText;
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, endpoints.server.metrics().registry().scrape(),
                    accept == null ? EscapingScheme.DEFAULT : EscapingScheme.fromAcceptHeader(accept));
        } catch (IOException | RuntimeException e) {
            LOG.warn("admin: GET /metrics failed", e);
            return json(HttpResponseStatus.INTERNAL_SERVER_ERROR, error("collecting the metrics failed: " + e.getMessage()));
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(out.toByteArray()));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, writer.getContentType());
        return r;
    }

    private FullHttpResponse ready() {
        RiverServer.Readiness readiness = endpoints.server.readiness();
        ObjectNode body = JSON.createObjectNode().put("ready", readiness.ready());
        if (!readiness.ready()) {
            readiness.pending().forEach(body.putArray("pending")::add);
        }
        return json(readiness.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
    }

    /** Runs the reload on the reload thread; reads nothing more until it has answered. */
    private void reload(ChannelHandlerContext ctx, boolean keepAlive) {
        busy = true;
        ctx.channel().config().setAutoRead(false);
        endpoints.reloader.reload().whenComplete((outcome, failure) -> ctx.executor().execute(() -> {
            busy = false;
            ctx.channel().config().setAutoRead(true);
            if (failure == null) {
                answer(ctx, keepAlive, false, json(outcome.ok() ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY, outcome(outcome)));
                return;
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            HttpResponseStatus status = cause instanceof RejectedExecutionException
                    ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.INTERNAL_SERVER_ERROR;
            answer(ctx, keepAlive, false, json(status, error("reload not done: " + cause.getMessage())));
        }));
    }

    static ObjectNode outcome(ReloadOutcome o) {
        ObjectNode body = JSON.createObjectNode().put("ok", o.ok()).put("reload", o.reload()).put("generation", o.generation())
                .put("millis", o.millis());
        if (o.ok()) {
            body.putObject("services").put("added", o.servicesAdded()).put("removed", o.servicesRemoved()).put("changed", o.servicesChanged());
            body.putObject("listeners").put("kept", o.listenersKept()).put("added", o.listenersAdded()).put("removed", o.listenersRemoved());
        } else {
            o.errors().forEach(body.putArray("errors")::add);
        }
        return body.put("message", o.describe());
    }

    private static FullHttpResponse notAllowed(String allow) {
        FullHttpResponse r = json(HttpResponseStatus.METHOD_NOT_ALLOWED, error("method not allowed; allowed: " + allow));
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return r;
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static FullHttpResponse json(HttpResponseStatus status, JsonNode body) {
        byte[] bytes;
        try {
            bytes = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree that cannot be written", e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON_TYPE);
        return r;
    }

    /** Writes the answer (for HEAD, its head only, with the length the body would have). */
    private static void answer(ChannelHandlerContext ctx, boolean keepAlive, boolean head, FullHttpResponse r) {
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        // An origin server's answers carry a Date (RFC 9110 §6.6.1). river.proxy.HttpDate is outside the
        // admin's layer (docs/architecture.md); Netty's formatter writes the same IMF-fixdate, and the
        // admin listener answers too rarely for its per-call formatting to matter.
        r.headers().set(HttpHeaderNames.DATE, io.netty.handler.codec.DateFormatter.format(new java.util.Date()));
        FullHttpResponse sent = head ? r.replace(Unpooled.EMPTY_BUFFER) : r;
        if (head) {
            r.release();
        }
        if (!keepAlive) {
            sent.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        var written = ctx.writeAndFlush(sent);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent && !busy) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin connection failed", cause);
        ctx.close();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
