package river.modules.filters;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import river.config.CidrRange;
import river.config.FilterConfig;
import river.config.PathControlConfig;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's path-control filters: {@code block-cidr-range} on request arrival (403 for a blocked
 * client), and {@code remove-header-key-regex} / {@code upsert-header} on the upstream request and
 * upstream response, applied in the order written.
 */
public final class PathControlModule implements ProxyModule {
    private final List<CidrRange> blocked;
    private final List<FilterConfig> upstreamRequest;
    private final List<FilterConfig> upstreamResponse;

    public PathControlModule(PathControlConfig config) {
        List<CidrRange> ranges = new ArrayList<>();
        for (FilterConfig f : config.requestFilters()) {
            if (f instanceof FilterConfig.BlockCidrRange block) {
                ranges.addAll(block.ranges());
            }
        }
        this.blocked = List.copyOf(ranges);
        this.upstreamRequest = config.upstreamRequest();
        this.upstreamResponse = config.upstreamResponse();
    }

    /** Whether the configuration has anything for this module to do. */
    public static boolean isNeeded(PathControlConfig config) {
        return !config.requestFilters().isEmpty() || !config.upstreamRequest().isEmpty() || !config.upstreamResponse().isEmpty();
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        if (!blocked.isEmpty() && ctx.client() != null) {
            byte[] address = ctx.client().getAddress().getAddress();
            for (CidrRange range : blocked) {
                if (range.contains(address)) {
                    return CompletableFuture.completedFuture(forbidden());
                }
            }
        }
        return Verdict.CONTINUE_NOW;
    }

    @Override
    public void onUpstreamRequest(RequestContext ctx, HttpRequest request) {
        apply(upstreamRequest, request.headers());
    }

    @Override
    public void onUpstreamResponse(RequestContext ctx, HttpResponse response) {
        apply(upstreamResponse, response.headers());
    }

    private static void apply(List<FilterConfig> filters, HttpHeaders headers) {
        for (FilterConfig f : filters) {
            if (f instanceof FilterConfig.RemoveHeaderKeyRegex remove) {
                List<String> doomed = null;
                for (String name : headers.names()) {
                    if (remove.pattern().matcher(name).find()) {
                        if (doomed == null) {
                            doomed = new ArrayList<>(2);
                        }
                        doomed.add(name);
                    }
                }
                if (doomed != null) {
                    doomed.forEach(headers::remove);
                }
            } else if (f instanceof FilterConfig.UpsertHeader upsert) {
                headers.set(upsert.key(), upsert.value());
            }
        }
    }

    private static Verdict forbidden() {
        byte[] body = "403 Forbidden\n".getBytes(StandardCharsets.US_ASCII);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(body)));
    }
}
