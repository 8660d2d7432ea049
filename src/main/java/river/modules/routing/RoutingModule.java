package river.modules.routing;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.List;
import java.util.concurrent.CompletionStage;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River 0.8's routes: picks the upstreams of the first route that claims the request (routes come in
 * matching order), or answers {@code no-route}. Runs last among the request phases, so filters and
 * normalization have already seen the request.
 */
public final class RoutingModule implements ProxyModule {
    private final List<Route> routes;
    private final int noRouteStatus;
    private final String noRouteBody;

    public RoutingModule(List<Route> routes, int noRouteStatus, String noRouteBody) {
        this.routes = List.copyOf(routes);
        this.noRouteStatus = noRouteStatus;
        this.noRouteBody = noRouteBody;
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        String path = ctx.path();
        String method = ctx.request().method().name();
        String host = hostWithoutPort(ctx.request().headers().get(HttpHeaderNames.HOST));
        for (int i = 0; i < routes.size(); i++) {
            Route route = routes.get(i);
            if (route.claims(path, method, host)) {
                ctx.routeTo(route.upstreams(), i);
                return Verdict.CONTINUE_NOW;
            }
        }
        ctx.noRoute();
        return Verdict.textNow(noRouteStatus, noRouteBody);
    }

    /** The Host header's name in lower case, without the port (once per request, for every route). */
    static String hostWithoutPort(String host) {
        if (host == null) {
            return null;
        }
        host = host.toLowerCase(java.util.Locale.ROOT);
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }
}
