package river.observe;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import river.proxy.ProxyError;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;
import river.upstream.Peer;

/**
 * Traces each request: a SERVER span from the request's arrival to its logging, continuing the
 * client's W3C trace context ({@code traceparent}, {@code tracestate}; an invalid one starts a new
 * trace), and a CLIENT span per upstream attempt (a retry after a failed connect, or the repeat of a
 * request a stale pooled connection lost, is another attempt), whose context is what goes upstream in
 * place of whatever the client sent. Attributes follow OpenTelemetry's HTTP semantic conventions;
 * span names are bounded ({@code METHOD route}, the configured route or the service, never the raw
 * path). Installed first among a service's modules, so it sees every request, the final response
 * head last, and logs before the access log. Only installed when tracing is on.
 */
final class TracingModule implements ProxyModule {
    private static final RequestContext.Key<Traced> TRACED = RequestContext.Key.of("tracing.spans", Traced.class);
    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> METHOD_ORIGINAL = AttributeKey.stringKey("http.request.method_original");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> URL_SCHEME = AttributeKey.stringKey("url.scheme");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");
    static final AttributeKey<String> PROTOCOL_VERSION = AttributeKey.stringKey("network.protocol.version");
    static final AttributeKey<String> USER_AGENT = AttributeKey.stringKey("user_agent.original");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<Long> RESEND_COUNT = AttributeKey.longKey("http.request.resend_count");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> PEER_ADDRESS = AttributeKey.stringKey("network.peer.address");

    private static final TextMapGetter<HttpHeaders> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
            return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };
    private static final TextMapSetter<HttpHeaders> SET_HEADER = (carrier, key, value) -> carrier.set(key, value);

    private final Tracing tracing;
    /** The service's configured route paths, by {@link RequestContext#route()} index: span names and http.route. */
    private final String[] routePaths;

    TracingModule(Tracing tracing, java.util.List<String> routePaths) {
        this.tracing = tracing;
        this.routePaths = routePaths.toArray(new String[0]);
    }

    @Override
    public String name() {
        return "tracing";
    }

    /** One request's spans. */
    private static final class Traced {
        final Span server;
        final Context serverContext;
        /** When the request arrived, in epoch nanoseconds (its start time, converted from the engine's clock). */
        final long startEpochNanos;
        final String method;
        /** The attempt in progress, or null. */
        Span attempt;
        /** Attempts started so far. */
        int attempts;

        Traced(Span server, Context serverContext, long startEpochNanos, String method) {
            this.server = server;
            this.serverContext = serverContext;
            this.startEpochNanos = startEpochNanos;
            this.method = method;
        }
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        HttpRequest request = ctx.request();
        Context parent = tracing.propagator().extract(Context.root(), request.headers(), HEADERS);
        // The request's real start: the engine's arrival time, moved onto the epoch clock.
        long start = tracing.epochNanos() - (System.nanoTime() - ctx.startNanos());
        String original = request.method().name();
        String method = KNOWN_METHODS.contains(original) ? original : "_OTHER";
        Span server = tracing.tracer().spanBuilder(method.equals("_OTHER") ? "HTTP" : method)
                .setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(start, TimeUnit.NANOSECONDS)
                .startSpan();
        if (server.isRecording()) {
            // An unsampled span records nothing: its attributes are not even built.
            server.setAttribute(METHOD, method);
            if (method.equals("_OTHER")) {
                server.setAttribute(METHOD_ORIGINAL, original);
            }
            server.setAttribute(URL_PATH, ctx.path());
            server.setAttribute(URL_SCHEME, ctx.secure() ? "https" : "http");
            server.setAttribute(PROTOCOL_VERSION, ctx.protocolVersion());
            String host = request.headers().get(HttpHeaderNames.HOST);
            if (host != null) {
                hostAndPort(server, host, ctx.secure() ? 443 : 80);
            }
            String agent = request.headers().get(HttpHeaderNames.USER_AGENT);
            if (agent != null) {
                server.setAttribute(USER_AGENT, agent);
            }
        }
        ctx.set(TRACED, new Traced(server, parent.with(server), start, method));
        return Verdict.CONTINUE_NOW;
    }

    @Override
    public Peer upstreamPeer(RequestContext ctx, Peer chosen) {
        Traced t = ctx.get(TRACED);
        if (t == null || chosen == null) {
            return chosen;
        }
        if (t.attempt != null) {
            // The last attempt's pooled connection was closed under it before any answer: it is repeated.
            endAttempt(t, ProxyError.Kind.UPSTREAM_CLOSED.name().toLowerCase(Locale.ROOT), now(ctx, t));
        }
        Span attempt = tracing.tracer().spanBuilder(t.method.equals("_OTHER") ? "HTTP" : t.method)
                .setParent(t.serverContext)
                .setSpanKind(SpanKind.CLIENT)
                .setStartTimestamp(now(ctx, t), TimeUnit.NANOSECONDS)
                .startSpan();
        if (attempt.isRecording()) {
            attempt.setAttribute(METHOD, t.method);
            if (t.attempts > 0) {
                attempt.setAttribute(RESEND_COUNT, t.attempts);
            }
        }
        t.attempt = attempt;
        t.attempts++;
        return chosen;
    }

    @Override
    public ProxyError failToConnect(RequestContext ctx, Peer peer, ProxyError error) {
        Traced t = ctx.get(TRACED);
        if (t != null && t.attempt != null) {
            peerAttributes(t.attempt, peer);
            endAttempt(t, error.name().toLowerCase(Locale.ROOT), now(ctx, t));
        }
        return error;
    }

    @Override
    public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest upstreamRequest) {
        Traced t = ctx.get(TRACED);
        if (t != null) {
            HttpHeaders headers = upstreamRequest.headers();
            // The origin sees the attempt's span as its parent, never the client's own context.
            headers.remove("traceparent");
            headers.remove("tracestate");
            Context sent = t.serverContext;
            if (t.attempt != null) {
                peerAttributes(t.attempt, ctx.peer());
                sent = sent.with(t.attempt);
            }
            tracing.propagator().inject(sent, headers, SET_HEADER);
        }
        return DONE;
    }

    @Override
    public CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse upstreamResponse) {
        Traced t = ctx.get(TRACED);
        if (t != null && t.attempt != null && t.attempt.isRecording()) {
            int code = upstreamResponse.status().code();
            t.attempt.setAttribute(STATUS, code);
            if (code >= 400) {
                t.attempt.setAttribute(ERROR_TYPE, Integer.toString(code));
                t.attempt.setStatus(StatusCode.ERROR);
            }
        }
        return DONE;
    }

    @Override
    public void onLogging(RequestContext ctx) {
        Traced t = ctx.get(TRACED);
        if (t == null) {
            return;
        }
        ProxyError error = ctx.error();
        String errorType = error == null ? null : error.name().toLowerCase(Locale.ROOT);
        long total = ctx.totalNanos();
        long end = total < 0 ? now(ctx, t) : t.startEpochNanos + total; // when the request ended
        if (t.attempt != null) {
            endAttempt(t, errorType, end);
        }
        Span server = t.server;
        if (server.isRecording()) {
            int index = ctx.route();
            String route = index >= 0 && index < routePaths.length ? routePaths[index] : null;
            server.updateName((t.method.equals("_OTHER") ? "HTTP" : t.method) + " " + (route != null ? route : ctx.service()));
            if (route != null) {
                server.setAttribute(ROUTE, route);
            }
            InetSocketAddress client = ctx.client();
            if (client != null && client.getAddress() != null) {
                server.setAttribute(CLIENT_ADDRESS, client.getAddress().getHostAddress());
            }
            int code = ctx.status() == null ? 0 : ctx.status().code();
            if (code > 0) {
                server.setAttribute(STATUS, code);
            }
            if (errorType == null && code >= 500) {
                errorType = Integer.toString(code);
            }
            if (errorType != null) {
                server.setAttribute(ERROR_TYPE, errorType);
                server.setStatus(StatusCode.ERROR);
            }
        }
        server.end(end, TimeUnit.NANOSECONDS);
    }

    /** Ends the attempt in progress at {@code endEpochNanos}, failed with {@code errorType} unless that is null. */
    private static void endAttempt(Traced t, String errorType, long endEpochNanos) {
        Span attempt = t.attempt;
        t.attempt = null;
        if (errorType != null && attempt.isRecording()) {
            attempt.setAttribute(ERROR_TYPE, errorType);
            attempt.setStatus(StatusCode.ERROR);
        }
        attempt.end(endEpochNanos, TimeUnit.NANOSECONDS);
    }

    /** Now on the request's own timeline (the engine clock's arrival plus the time since), in epoch nanoseconds. */
    private static long now(RequestContext ctx, Traced t) {
        return t.startEpochNanos + (System.nanoTime() - ctx.startNanos());
    }

    private static void peerAttributes(Span attempt, Peer peer) {
        if (peer == null || !attempt.isRecording()) {
            return;
        }
        InetSocketAddress address = peer.address();
        attempt.setAttribute(SERVER_ADDRESS, address.getHostString());
        attempt.setAttribute(SERVER_PORT, address.getPort());
        if (address.getAddress() != null) {
            attempt.setAttribute(PEER_ADDRESS, address.getAddress().getHostAddress());
        }
    }

    /** server.address and server.port from a Host header ({@code name}, {@code name:port}, {@code [v6]:port}). */
    private static void hostAndPort(Span span, String host, int defaultPort) {
        int close = host.startsWith("[") ? host.indexOf(']') : -1;
        int colon = host.indexOf(':', Math.max(close, 0));
        String name = colon < 0 ? host : host.substring(0, colon);
        int port = defaultPort;
        if (colon >= 0) {
            try {
                port = Integer.parseInt(host.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = defaultPort;
            }
        }
        span.setAttribute(SERVER_ADDRESS, name);
        span.setAttribute(SERVER_PORT, port);
    }
}
