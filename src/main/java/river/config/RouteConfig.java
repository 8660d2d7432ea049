package river.config;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One route of a service: which requests it claims and the connectors they go to.
 *
 * @param path the path, prefix or regular expression as written
 * @param regex the compiled expression for {@link Match#REGEX}, else null
 * @param methods the methods claimed (upper case), empty for any
 * @param host the Host claimed (lower case; {@code *.example.com} claims subdomains), or empty for any
 */
public record RouteConfig(String path, Match match, Pattern regex, Set<String> methods, Optional<String> host,
        ServiceHandler.Proxy upstream) {

    public RouteConfig {
        methods = Set.copyOf(methods);
    }

    /** How {@code path} is compared with the request's path. */
    public enum Match {
        EXACT("exact"),
        PREFIX("prefix"),
        REGEX("regex");

        private final String configName;

        Match(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }
}
