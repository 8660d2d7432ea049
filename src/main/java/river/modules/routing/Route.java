package river.modules.routing;

import java.util.Set;
import java.util.regex.Pattern;
import river.upstream.PeerSelector;

/**
 * One route at run time: what it claims, and the upstreams of the requests it claims.
 *
 * @param kind "exact", "prefix" or "regex"
 * @param regex the compiled expression for "regex", else null
 * @param methods the methods claimed (upper case), empty for any
 * @param host the Host claimed (lower case; {@code *.example.com} claims its subdomains), or null for any
 */
public record Route(String path, String kind, Pattern regex, Set<String> methods, String host, PeerSelector upstreams) {

    /** Whether this route claims a request; {@code requestHost} is lower case, without a port. */
    boolean claims(String requestPath, String method, String requestHost) {
        if (!methods.isEmpty() && !methods.contains(method)) {
            return false;
        }
        if (host != null && (requestHost == null || !hostMatches(requestHost))) {
            return false;
        }
        return switch (kind) {
            case "exact" -> requestPath.equals(path);
            case "regex" -> regex.matcher(requestPath).find();
            default -> prefixMatches(requestPath);
        };
    }

    /** A prefix claims the path itself or what continues after it at a segment boundary. */
    private boolean prefixMatches(String requestPath) {
        if (!requestPath.startsWith(path)) {
            return false;
        }
        return requestPath.length() == path.length() || path.endsWith("/") || requestPath.charAt(path.length()) == '/';
    }

    private boolean hostMatches(String h) {
        if (host.startsWith("*.")) {
            // "*.example.com" claims "a.example.com": the name ends with ".example.com" and is longer.
            int suffix = host.length() - 1;
            return h.length() > suffix && h.regionMatches(h.length() - suffix, host, 1, suffix);
        }
        return h.equals(host);
    }
}
