package river.config;

import java.nio.file.Path;
import java.util.List;

/** What a service does with a request: proxy it to connectors (possibly by route), or serve files. */
public sealed interface ServiceHandler {

    /** Proxy to upstream connectors chosen by the load-balance settings. */
    record Proxy(List<ConnectorConfig> connectors, LoadBalanceConfig loadBalance) implements ServiceHandler {
        public Proxy {
            connectors = List.copyOf(connectors);
        }
    }

    /**
     * Proxy to the connectors of the route that claims the request (River 0.8's {@code routes}).
     *
     * @param routes in matching order: exact, then prefix (longest first), then regex (file order);
     *     host-specific routes before the others within each kind
     * @param noRouteStatus the status of a request no route claims
     * @param noRouteBody its body (empty for none)
     */
    record Routed(List<RouteConfig> routes, int noRouteStatus, String noRouteBody) implements ServiceHandler {
        public Routed {
            routes = List.copyOf(routes);
        }
    }

    /** Serve the files below {@code basePath} (River's {@code file-server}). */
    record FileServer(Path basePath) implements ServiceHandler {}
}
