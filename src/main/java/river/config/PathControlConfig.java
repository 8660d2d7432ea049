package river.config;

import java.util.List;

/** River's path-control stages, each a list of filters applied in the order written. */
public record PathControlConfig(
        List<FilterConfig> requestFilters, List<FilterConfig> upstreamRequest, List<FilterConfig> upstreamResponse) {
    public PathControlConfig {
        requestFilters = List.copyOf(requestFilters);
        upstreamRequest = List.copyOf(upstreamRequest);
        upstreamResponse = List.copyOf(upstreamResponse);
    }

    public static PathControlConfig empty() {
        return new PathControlConfig(List.of(), List.of(), List.of());
    }
}
