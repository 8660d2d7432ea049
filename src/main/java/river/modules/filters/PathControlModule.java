package river.modules.filters;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import river.config.CidrSet;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import river.proxy.ProxyModule;
import river.proxy.Rejected;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's path-control filters, each stage applied in the order written: address filters, redirects
 * and path rewrites on arrival; header filters on the upstream request, the upstream response and
 * every response going out; size limits and rewrites on the bodies. Every filter is built once from
 * its configuration (River's {@code from_settings}); the request path never reads a config record.
 */
public final class PathControlModule implements ProxyModule {
    private final RequestFilter[] requestFilters;
    private final HeaderFilter[] upstreamRequest;
    private final HeaderFilter[] upstreamResponse;
    private final HeaderFilter[] responseFilters;
    private final BodyFilter.Limit requestLimit;
    private final BodyFilter.Limit responseLimit;
    private final List<BodyRewrite.Rewrite> requestRewrites;
    private final List<BodyRewrite.Rewrite> responseRewrites;

    /** @throws IllegalArgumentException if a filter is in a stage its kind cannot be used in */
    public PathControlModule(PathControlConfig config) {
        this.requestFilters = stage(config.requestFilters(), RequestFilter.class, "request-filters").toArray(RequestFilter[]::new);
        this.upstreamRequest = headerStage(config.upstreamRequest(), "upstream-request");
        this.upstreamResponse = headerStage(config.upstreamResponse(), "upstream-response");
        this.responseFilters = headerStage(config.responseFilters(), "response-filters");
        List<BodyFilter> requestBody = stage(config.requestBody(), BodyFilter.class, "request-body");
        List<BodyFilter> responseBody = stage(config.responseBody(), BodyFilter.class, "response-body");
        this.requestLimit = limit(requestBody);
        this.responseLimit = limit(responseBody);
        this.requestRewrites = rewrites(requestBody);
        this.responseRewrites = rewrites(responseBody);
    }

    /** Whether the configuration has anything for this module to do. */
    public static boolean isNeeded(PathControlConfig config) {
        return !config.isEmpty();
    }

    /** The filters of one stage built, each of which must be of the stage's kind. */
    private static <T> List<T> stage(List<FilterConfig> filters, Class<T> kind, String stage) {
        List<T> built = new ArrayList<>(filters.size());
        for (FilterConfig f : filters) {
            Object filter = f.accept(BUILD);
            if (!kind.isInstance(filter)) {
                throw new IllegalArgumentException(f + " cannot be used in " + stage);
            }
            built.add(kind.cast(filter));
        }
        return List.copyOf(built);
    }

    private static HeaderFilter[] headerStage(List<FilterConfig> filters, String stage) {
        return stage(filters, HeaderFilter.class, stage).toArray(HeaderFilter[]::new);
    }

    /** The stage's {@code max-size} (at most one; the first counts), or null. */
    private static BodyFilter.Limit limit(List<BodyFilter> stage) {
        for (BodyFilter f : stage) {
            if (f instanceof BodyFilter.Limit max) {
                return max;
            }
        }
        return null;
    }

    private static List<BodyRewrite.Rewrite> rewrites(List<BodyFilter> stage) {
        List<BodyRewrite.Rewrite> out = new ArrayList<>();
        for (BodyFilter f : stage) {
            if (f instanceof BodyFilter.Replace r) {
                out.add(r.rewrite());
            }
        }
        return List.copyOf(out);
    }

    /** The body stages' filters. */
    sealed interface BodyFilter {
        /** {@code max-size}: a body longer than {@code maxBytes} is answered {@code status}. */
        record Limit(long maxBytes, int status) implements BodyFilter {}

        /** {@code replace}. */
        record Replace(BodyRewrite.Rewrite rewrite) implements BodyFilter {}
    }

    /** Each kind of filter in its run-time form; which stage interface the form implements says where it may be used. */
    private static final FilterConfig.Visitor<Object> BUILD = new FilterConfig.Visitor<>() {
        @Override
        public Object blockCidrRange(FilterConfig.BlockCidrRange f) {
            return new RequestFilter.Address(CidrSet.of(f.ranges()), false, f.rejection().status(), f.rejection().body());
        }

        @Override
        public Object allowCidrRange(FilterConfig.AllowCidrRange f) {
            return new RequestFilter.Address(CidrSet.of(f.ranges()), true, f.rejection().status(), f.rejection().body());
        }

        @Override
        public Object redirect(FilterConfig.Redirect f) {
            return new RequestFilter.Redirect(new ReusedMatcher(f.pattern()), f.location(), HttpResponseStatus.valueOf(f.status()));
        }

        @Override
        public Object rewritePath(FilterConfig.RewritePath f) {
            return new RequestFilter.RewritePath(new ReusedMatcher(f.pattern()), f.replacement());
        }

        @Override
        public Object removeHeaderKeyRegex(FilterConfig.RemoveHeaderKeyRegex f) {
            return new HeaderFilter.RemoveMatching(f.pattern(), false);
        }

        @Override
        public Object removeHeaderKeyGlob(FilterConfig.RemoveHeaderKeyGlob f) {
            return new HeaderFilter.RemoveMatching(f.pattern(), true);
        }

        @Override
        public Object removeHeader(FilterConfig.RemoveHeader f) {
            return new HeaderFilter.Remove(AsciiString.of(f.key()));
        }

        @Override
        public Object upsertHeader(FilterConfig.UpsertHeader f) {
            return new HeaderFilter.Upsert(AsciiString.of(f.key()), f.value());
        }

        @Override
        public Object appendHeader(FilterConfig.AppendHeader f) {
            return new HeaderFilter.Append(AsciiString.of(f.key()), f.value());
        }

        @Override
        public Object maxSize(FilterConfig.MaxSize f) {
            return new BodyFilter.Limit(f.maxBytes(), f.status());
        }

        @Override
        public Object replaceBody(FilterConfig.ReplaceBody f) {
            return new BodyFilter.Replace(new BodyRewrite.Rewrite(f.pattern(), f.replacement(), f.maxBytes(), f.contentTypes()));
        }
    };

    // ---- request ----------------------------------------------------------------------------------

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        for (int i = 0; i < requestFilters.length; i++) {
            RequestFilter f = requestFilters[i];
            Verdict verdict = f.apply(ctx);
            if (verdict != null) {
                if (f instanceof RequestFilter.Address address) {
                    ctx.rejectedBy("request-filters filter " + (i + 1) + (address.allow() ? " (allow-cidr-range)" : " (block-cidr-range)"));
                }
                return CompletableFuture.completedFuture(verdict);
            }
        }
        if (requestLimit != null && HttpUtil.getContentLength(ctx.request(), -1L) > requestLimit.maxBytes()) {
            // Refused before any of the body is read.
            ctx.rejectedBy("request-body max-size");
            return Verdict.textNow(requestLimit.status(), "");
        }
        if (BodyRewrite.wanted(requestRewrites, ctx.request().headers())) {
            // Decided now, before any of the body can arrive (it may come with the head).
            BodyRewrite.start(ctx, BodyRewrite.REQUEST, requestRewrites, ctx.request().headers());
        }
        return Verdict.CONTINUE_NOW;
    }

    @Override
    public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest request) {
        apply(upstreamRequest, request.headers());
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
        apply(upstreamResponse, response.headers());
        if (BodyRewrite.wanted(responseRewrites, response.headers())) {
            BodyRewrite.start(ctx, BodyRewrite.RESPONSE, responseRewrites, response.headers());
        }
        return DONE;
    }

    @Override
    public CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
        apply(responseFilters, response.headers());
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

    /** One header stage, in the order written. */
    static void apply(HeaderFilter[] stage, HttpHeaders headers) {
        for (HeaderFilter f : stage) {
            f.apply(headers);
        }
    }

    /** Counts a body against its {@code max-size} as it passes. */
    static final class BodyCounter {
        static final RequestContext.Key<long[]> REQUEST = RequestContext.Key.of("path-control.request-bytes", long[].class);
        static final RequestContext.Key<long[]> RESPONSE = RequestContext.Key.of("path-control.response-bytes", long[].class);

        private BodyCounter() {}

        static void count(RequestContext ctx, RequestContext.Key<long[]> which, HttpContent chunk, BodyFilter.Limit limit, String what) {
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
