package river.config;

import java.util.List;

/**
 * River's path-control stages, each a list of filters applied in the order written.
 *
 * @param requestFilters on arrival: address filters, redirects, path rewrites
 * @param upstreamRequest header filters on the request sent upstream
 * @param upstreamResponse header filters on the response as it came from upstream
 * @param responseFilters header filters on every response on its way out, local ones included
 * @param requestBody {@code max-size} and {@code replace} on the request body
 * @param responseBody {@code max-size} and {@code replace} on the response body
 */
public record PathControlConfig(
        List<FilterConfig> requestFilters, List<FilterConfig> upstreamRequest, List<FilterConfig> upstreamResponse,
        List<FilterConfig> responseFilters, List<FilterConfig> requestBody, List<FilterConfig> responseBody) {
    public PathControlConfig {
        requestFilters = List.copyOf(requestFilters);
        upstreamRequest = List.copyOf(upstreamRequest);
        upstreamResponse = List.copyOf(upstreamResponse);
        responseFilters = List.copyOf(responseFilters);
        requestBody = List.copyOf(requestBody);
        responseBody = List.copyOf(responseBody);
    }

    public PathControlConfig(List<FilterConfig> requestFilters, List<FilterConfig> upstreamRequest, List<FilterConfig> upstreamResponse) {
        this(requestFilters, upstreamRequest, upstreamResponse, List.of(), List.of(), List.of());
    }

    public static PathControlConfig empty() {
        return new PathControlConfig(List.of(), List.of(), List.of());
    }

    public boolean isEmpty() {
        return requestFilters.isEmpty() && upstreamRequest.isEmpty() && upstreamResponse.isEmpty() && responseFilters.isEmpty()
                && requestBody.isEmpty() && responseBody.isEmpty();
    }
}
