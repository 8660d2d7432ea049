package river.modules.filters;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import river.config.CidrRange;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import river.proxy.ProxyModule;
import river.proxy.Rejected;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's path-control filters, each stage applied in the order written: address filters, redirects
 * and path rewrites on arrival; header filters on the upstream request, the upstream response and
 * every response going out; size limits and rewrites on the bodies.
 */
public final class PathControlModule implements ProxyModule {
    private final PathControlConfig config;
    private final FilterConfig.MaxSize requestLimit;
    private final FilterConfig.MaxSize responseLimit;
    private final List<FilterConfig.ReplaceBody> requestRewrites;
    private final List<FilterConfig.ReplaceBody> responseRewrites;

    public PathControlModule(PathControlConfig config) {
        this.config = config;
        this.requestLimit = maxSize(config.requestBody());
        this.responseLimit = maxSize(config.responseBody());
        this.requestRewrites = rewrites(config.requestBody());
        this.responseRewrites = rewrites(config.responseBody());
    }

    private static FilterConfig.MaxSize maxSize(List<FilterConfig> stage) {
        for (FilterConfig f : stage) {
            if (f instanceof FilterConfig.MaxSize max) {
                return max;
            }
        }
        return null;
    }

    private static List<FilterConfig.ReplaceBody> rewrites(List<FilterConfig> stage) {
        List<FilterConfig.ReplaceBody> out = new ArrayList<>();
        for (FilterConfig f : stage) {
            if (f instanceof FilterConfig.ReplaceBody r) {
                out.add(r);
            }
        }
        return List.copyOf(out);
    }

    /** Whether the configuration has anything for this module to do. */
    public static boolean isNeeded(PathControlConfig config) {
        return !config.isEmpty();
    }

    // ---- request ----------------------------------------------------------------------------------

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        for (FilterConfig f : config.requestFilters()) {
            Verdict verdict = apply(f, ctx);
            if (verdict != null) {
                return CompletableFuture.completedFuture(verdict);
            }
        }
        if (requestLimit != null && HttpUtil.getContentLength(ctx.request(), -1L) > requestLimit.maxBytes()) {
            // Refused before any of the body is read.
            return Verdict.textNow(requestLimit.status(), "");
        }
        if (BodyRewrite.wanted(requestRewrites, ctx.request().headers())) {
            // Decided now, before any of the body can arrive (it may come with the head).
            BodyRewrite.start(ctx, BodyRewrite.REQUEST, requestRewrites, ctx.request().headers());
        }
        return Verdict.CONTINUE_NOW;
    }

    /** One request filter; returns the answer if it rejects or redirects the request. */
    private static Verdict apply(FilterConfig f, RequestContext ctx) {
        if (f instanceof FilterConfig.BlockCidrRange block) {
            return matches(block.ranges(), ctx) ? Verdict.text(block.rejection().status(), block.rejection().body()) : null;
        }
        if (f instanceof FilterConfig.AllowCidrRange allow) {
            // A Unix-socket client has no address: it is in no range, so an allow list rejects it.
            return matches(allow.ranges(), ctx) ? null : Verdict.text(allow.rejection().status(), allow.rejection().body());
        }
        if (f instanceof FilterConfig.Redirect redirect) {
            Matcher m = redirect.pattern().matcher(ctx.path());
            if (!m.find()) {
                return null;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(redirect.status()));
            head.headers().set(HttpHeaderNames.LOCATION, redirectTarget(ctx, redirect, m)).setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            return new Verdict.Respond(head, new Verdict.Body.Empty());
        }
        if (f instanceof FilterConfig.RewritePath rewrite) {
            Matcher m = rewrite.pattern().matcher(ctx.path());
            if (m.find()) {
                ctx.rewritePath(m.replaceFirst(rewrite.replacement()));
            }
        }
        return null;
    }

    /** The Location of a redirect: the template with the path's groups, plus the query unless it has one. */
    private static String redirectTarget(RequestContext ctx, FilterConfig.Redirect redirect, Matcher m) {
        StringBuilder expanded = new StringBuilder();
        m.appendReplacement(expanded, redirect.location());
        // appendReplacement also copied the path before the match: keep only the template's text.
        StringBuilder out = new StringBuilder(expanded.substring(m.start()));
        String uri = ctx.request().uri();
        int q = uri.indexOf('?');
        if (q >= 0 && out.indexOf("?") < 0) {
            out.append(uri, q, uri.length());
        }
        return out.toString();
    }

    private static boolean matches(List<CidrRange> ranges, RequestContext ctx) {
        if (ctx.client() == null) {
            return false;
        }
        byte[] address = ctx.client().getAddress().getAddress();
        for (CidrRange range : ranges) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest request) {
        HeaderFilters.apply(config.upstreamRequest(), request.headers());
        return DONE;
    }

    @Override
    public HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
        if (requestLimit != null) {
            BodyCounter.count(ctx, BodyCounter.REQUEST, chunk, requestLimit, "request body");
        }
        return BodyRewrite.pass(ctx, BodyRewrite.REQUEST, chunk);
    }

    // ---- response ---------------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse response) {
        if (responseLimit != null && HttpUtil.getContentLength(response, -1L) > responseLimit.maxBytes()) {
            throw new Rejected(responseLimit.status(), "", "response body of " + HttpUtil.getContentLength(response, -1L)
                    + " bytes is over the limit of " + responseLimit.maxBytes());
        }
        HeaderFilters.apply(config.upstreamResponse(), response.headers());
        if (BodyRewrite.wanted(responseRewrites, response.headers())) {
            BodyRewrite.start(ctx, BodyRewrite.RESPONSE, responseRewrites, response.headers());
        }
        return DONE;
    }

    @Override
    public CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
        HeaderFilters.apply(config.responseFilters(), response.headers());
        return DONE;
    }

    @Override
    public HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
        if (responseLimit != null) {
            BodyCounter.count(ctx, BodyCounter.RESPONSE, chunk, responseLimit, "response body");
        }
        return BodyRewrite.pass(ctx, BodyRewrite.RESPONSE, chunk);
    }

    @Override
    public void onLogging(RequestContext ctx) {
        BodyRewrite.discard(ctx);
    }

    /** The header filters of River's three header stages. */
    static final class HeaderFilters {
        private HeaderFilters() {}

        static void apply(List<FilterConfig> filters, HttpHeaders headers) {
            for (FilterConfig f : filters) {
                if (f instanceof FilterConfig.RemoveHeaderKeyRegex remove) {
                    removeMatching(headers, remove.pattern(), false);
                } else if (f instanceof FilterConfig.RemoveHeaderKeyGlob glob) {
                    removeMatching(headers, glob.pattern(), true);
                } else if (f instanceof FilterConfig.RemoveHeader remove) {
                    headers.remove(remove.key());
                } else if (f instanceof FilterConfig.UpsertHeader upsert) {
                    headers.set(upsert.key(), upsert.value());
                } else if (f instanceof FilterConfig.AppendHeader append) {
                    headers.add(append.key(), append.value());
                }
            }
        }

        /** Removes the headers whose name the pattern finds (River's regex filter) or matches whole (a glob). */
        private static void removeMatching(HttpHeaders headers, java.util.regex.Pattern pattern, boolean wholeName) {
            List<String> doomed = null;
            for (String name : headers.names()) {
                java.util.regex.Matcher m = pattern.matcher(name);
                if (wholeName ? m.matches() : m.find()) {
                    if (doomed == null) {
                        doomed = new ArrayList<>(2);
                    }
                    doomed.add(name);
                }
            }
            if (doomed != null) {
                doomed.forEach(headers::remove);
            }
        }
    }

    /** Counts a body against its {@code max-size} as it passes. */
    static final class BodyCounter {
        static final RequestContext.Key<long[]> REQUEST = RequestContext.Key.of("path-control.request-bytes", long[].class);
        static final RequestContext.Key<long[]> RESPONSE = RequestContext.Key.of("path-control.response-bytes", long[].class);

        private BodyCounter() {}

        static void count(RequestContext ctx, RequestContext.Key<long[]> which, HttpContent chunk, FilterConfig.MaxSize limit, String what) {
            long[] seen = ctx.get(which);
            if (seen == null) {
                seen = new long[1];
                ctx.set(which, seen);
            }
            seen[0] += chunk.content().readableBytes();
            if (seen[0] > limit.maxBytes()) {
                throw new Rejected(limit.status(), "", what + " went over the limit of " + limit.maxBytes() + " bytes");
            }
        }
    }
}
