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

    /**
     * Serve the files below {@code basePath} (River's {@code file-server}).
     *
     * @param indexFiles tried in order for a directory ({@code index.html} by default)
     * @param directoryListing an HTML listing of a directory without an index file (off: 403)
     * @param serveDotfiles serve names starting with a dot (off: 404, except {@code .well-known})
     * @param errorPages status (403, 404) → the file whose content is that answer's body
     * @param cacheControl {@code Cache-Control} by path pattern, the first match wins
     * @param precompressed send {@code FILE.br}, {@code FILE.zst} or {@code FILE.gz} when the client accepts it
     */
    record FileServer(Path basePath, List<String> indexFiles, boolean directoryListing, boolean serveDotfiles,
            java.util.Map<Integer, Path> errorPages, List<CacheRule> cacheControl, boolean precompressed,
            OpenFiles openFileCache) implements ServiceHandler {
        public FileServer {
            indexFiles = List.copyOf(indexFiles);
            errorPages = java.util.Map.copyOf(errorPages);
            cacheControl = List.copyOf(cacheControl);
        }

        /** The defaults: {@code index.html}, no listing, dotfiles hidden, plain-text errors, no Cache-Control, no precompressed variants. */
        public FileServer(Path basePath) {
            this(basePath, List.of("index.html"), false, false, java.util.Map.of(), List.of(), false, null);
        }

        /**
         * {@code open-file-cache}: lookups kept, with their open files, for {@code validMs}; null when off.
         *
         * @param max the most entries, and so open files, kept
         * @param validMs how long an entry answers before the file is looked up again
         */
        public record OpenFiles(int max, long validMs) {}

        /**
         * @param pattern a request path glob: {@code *} within a segment, {@code **} across segments
         * @param value the {@code Cache-Control} value
         */
        public record CacheRule(String pattern, String value) {}
    }
}
