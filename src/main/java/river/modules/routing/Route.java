package river.modules.routing;

import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import river.config.RouteConfig;
import river.upstream.PeerSelector;

/**
 * One route at run time, built once from its configuration: what it claims, and the upstreams of
 * the requests it claims.
 */
public final class Route {
    /** Whether the route claims a request path. */
    private final Predicate<String> path;
    /** The methods claimed (upper case), empty for any. */
    private final Set<String> methods;
    /** The Host claimed (lower case), or null for any host or for a wildcard. */
    private final String host;
    /** For {@code *.example.com}: {@code .example.com}, which a claimed Host ends with; else null. */
    private final String hostSuffix;
    private final PeerSelector upstreams;

    private Route(Predicate<String> path, Set<String> methods, String host, PeerSelector upstreams) {
        this.path = path;
        this.methods = Set.copyOf(methods);
        boolean wildcard = host != null && host.startsWith("*.");
        this.host = wildcard ? null : host;
        this.hostSuffix = wildcard ? host.substring(1) : null;
        this.upstreams = upstreams;
    }

    /** The route of {@code config}, sending what it claims to {@code upstreams}. */
    public static Route of(RouteConfig config, PeerSelector upstreams) {
        String p = config.path();
        // A switch expression over the enum: a new kind of match fails to compile here until handled.
        Predicate<String> path = switch (config.match()) {
            case EXACT -> p::equals;
            case PREFIX -> requestPath -> prefixMatches(p, requestPath);
            case REGEX -> {
                Pattern regex = config.regex();
                yield requestPath -> regex.matcher(requestPath).find();
            }
        };
        return new Route(path, config.methods(), config.host().orElse(null), upstreams);
    }

    PeerSelector upstreams() {
        return upstreams;
    }

    /** Whether this route claims a request; {@code requestHost} is lower case, without a port. */
    boolean claims(String requestPath, String method, String requestHost) {
        if (!methods.isEmpty() && !methods.contains(method)) {
            return false;
        }
        if (host != null && !host.equals(requestHost)) {
            return false;
        }
        // "*.example.com" claims "a.example.com": the name ends with ".example.com" and is longer.
        if (hostSuffix != null && (requestHost == null || requestHost.length() <= hostSuffix.length() || !requestHost.endsWith(hostSuffix))) {
            return false;
        }
        return path.test(requestPath);
    }

    /** A prefix claims the path itself or what continues after it at a segment boundary. */
    private static boolean prefixMatches(String prefix, String requestPath) {
        if (!requestPath.startsWith(prefix)) {
            return false;
        }
        return requestPath.length() == prefix.length() || prefix.endsWith("/") || requestPath.charAt(prefix.length()) == '/';
    }
}
