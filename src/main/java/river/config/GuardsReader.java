package river.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/**
 * Reads the sections that decide what a request may do: {@code path-control}, {@code rate-limiting},
 * {@code normalization}, {@code client-ip}, {@code overload} and {@code connection-filters}.
 */
final class GuardsReader extends KdlSchemaReader {
    private static final Set<String> HEADER_FILTERS = Set.of(
            "remove-header-key-regex", "remove-header-key-glob", "remove-header", "upsert-header", "append-header");
    private static final Set<String> ADDRESS_FILTERS = Set.of("block-cidr-range", "allow-cidr-range");
    private static final Set<String> REQUEST_FILTERS = Set.of("block-cidr-range", "allow-cidr-range", "redirect", "rewrite-path");
    private static final Set<String> BODY_FILTERS = Set.of("max-size", "replace");
    private static final Set<String> ALL_KINDS;

    static {
        Set<String> all = new HashSet<>(HEADER_FILTERS);
        all.addAll(REQUEST_FILTERS);
        all.addAll(BODY_FILTERS);
        ALL_KINDS = Set.copyOf(all);
    }

    GuardsReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    // ---- path-control -----------------------------------------------------------------------------

    PathControlConfig pathControl(KdlNode node) {
        noEntries(node);
        List<FilterConfig> request = List.of();
        List<FilterConfig> upstreamRequest = List.of();
        List<FilterConfig> upstreamResponse = List.of();
        List<FilterConfig> response = List.of();
        List<FilterConfig> requestBody = List.of();
        List<FilterConfig> responseBody = List.of();
        Set<String> seen = new HashSet<>();
        String stages = "request-filters, upstream-request, upstream-response, response-filters, request-body, response-body";
        for (KdlNode stage : node.children()) {
            if (!seen.add(stage.name()) && stages.contains(stage.name())) {
                duplicate(stage);
            }
            switch (stage.name()) {
                case "request-filters" -> request = filters(stage, REQUEST_FILTERS, 0);
                case "upstream-request" -> upstreamRequest = filters(stage, HEADER_FILTERS, 0);
                case "upstream-response" -> upstreamResponse = filters(stage, HEADER_FILTERS, 0);
                case "response-filters" -> response = filters(stage, HEADER_FILTERS, 0);
                case "request-body" -> requestBody = filters(stage, BODY_FILTERS, 413);
                case "response-body" -> responseBody = filters(stage, BODY_FILTERS, 502);
                default -> unknownNode(stage, "in path-control", stages);
            }
        }
        return new PathControlConfig(request, upstreamRequest, upstreamResponse, response, requestBody, responseBody);
    }

    /** The service's accept-time filters: {@code block-cidr-range} and {@code allow-cidr-range} only. */
    List<FilterConfig> connectionFilters(KdlNode node) {
        return filters(node, ADDRESS_FILTERS, 0);
    }

    /**
     * The filters of one stage.
     *
     * @param maxSizeStatus the default status of {@code max-size} in this stage
     */
    private List<FilterConfig> filters(KdlNode stage, Set<String> kindsHere, int maxSizeStatus) {
        noEntries(stage);
        List<FilterConfig> filters = new ArrayList<>();
        boolean sawMaxSize = false;
        for (KdlNode node : stage.children()) {
            if (!node.name().equals("filter")) {
                unknownNode(node, "in " + stage.name(), "filter");
                continue;
            }
            noArguments(node);
            noChildren(node);
            Optional<KdlProperty> kindProperty = node.property("kind");
            String expected = String.join(", ", new TreeSet<>(kindsHere));
            if (kindProperty.isEmpty()) {
                problems.add(where(node.position()), "filter needs kind=\"...\" (one of " + expected + ")");
                continue;
            }
            String kind = stringOrNull(kindProperty.get());
            if (kind == null) {
                continue;
            }
            if (!kindsHere.contains(kind)) {
                problems.add(where(kindProperty.get().value().position()), (ALL_KINDS.contains(kind)
                        ? "filter kind \"" + kind + "\" cannot be used in " + stage.name() : "unknown filter kind \"" + kind + "\"")
                        + "; expected one of " + expected);
                continue;
            }
            if (kind.equals("max-size")) {
                if (sawMaxSize) {
                    problems.add(where(node.position()), "at most one max-size filter may appear in " + stage.name());
                }
                sawMaxSize = true;
            }
            FilterConfig filter = filter(node, kind, maxSizeStatus);
            if (filter != null) {
                filters.add(filter);
            }
        }
        return filters;
    }

    private FilterConfig filter(KdlNode node, String kind, int maxSizeStatus) {
        String what = "filter kind=\"" + kind + "\"";
        return switch (kind) {
            case "block-cidr-range", "allow-cidr-range" -> {
                allowedProperties(node, what, "kind", "addrs", "status", "body");
                String addrs = requiredString(node, "addrs");
                List<CidrRange> ranges = addrs == null ? null : rules.cidrList(addrs, where(node.property("addrs").get().value().position()));
                FilterConfig.Rejection rejection = rejection(node, 403);
                if (ranges == null || rejection == null) {
                    yield null;
                }
                yield kind.equals("block-cidr-range") ? new FilterConfig.BlockCidrRange(ranges, rejection)
                        : new FilterConfig.AllowCidrRange(ranges, rejection);
            }
            case "remove-header-key-regex" -> {
                allowedProperties(node, what, "kind", "pattern");
                // Header names are case-insensitive, so is the match.
                Pattern pattern = regexProperty(node, "pattern", Pattern.CASE_INSENSITIVE);
                yield pattern == null ? null : new FilterConfig.RemoveHeaderKeyRegex(pattern);
            }
            case "remove-header-key-glob" -> {
                allowedProperties(node, what, "kind", "pattern");
                String glob = requiredString(node, "pattern");
                yield glob == null ? null : new FilterConfig.RemoveHeaderKeyGlob(glob, globPattern(glob));
            }
            case "remove-header" -> {
                allowedProperties(node, what, "kind", "key");
                String key = headerName(node, "key");
                yield key == null ? null : new FilterConfig.RemoveHeader(key);
            }
            case "upsert-header", "append-header" -> {
                allowedProperties(node, what, "kind", "key", "value");
                String key = headerName(node, "key");
                String value = requiredString(node, "value");
                value = value == null ? null : rules.headerValue(value, "value", where(node.property("value").get().value().position()));
                if (key == null || value == null) {
                    yield null;
                }
                yield kind.equals("upsert-header") ? new FilterConfig.UpsertHeader(key, value) : new FilterConfig.AppendHeader(key, value);
            }
            case "max-size" -> {
                allowedProperties(node, what, "kind", "max-bytes", "status");
                Integer max = requiredPositiveInt(node, "max-bytes");
                Integer status = statusProperty(node, maxSizeStatus);
                yield max == null || status == null ? null : new FilterConfig.MaxSize(max, status);
            }
            case "redirect" -> {
                allowedProperties(node, what, "kind", "pattern", "location", "status");
                Pattern pattern = regexProperty(node, "pattern", 0);
                String location = requiredString(node, "location");
                Integer status = statusProperty(node, 302);
                if (status != null && !Set.of(301, 302, 303, 307, 308).contains(status)) {
                    problems.add(where(node.property("status").get().value().position()),
                            "a redirect's status must be 301, 302, 303, 307 or 308, found " + status);
                    status = null;
                }
                yield pattern == null || location == null || status == null ? null : new FilterConfig.Redirect(pattern, location, status);
            }
            case "rewrite-path" -> {
                allowedProperties(node, what, "kind", "pattern", "replacement");
                Pattern pattern = regexProperty(node, "pattern", 0);
                String replacement = requiredString(node, "replacement");
                if (replacement != null && !replacement.startsWith("/") && !replacement.startsWith("$")) {
                    problems.add(where(node.property("replacement").get().value().position()),
                            "a rewritten path must start with / (or a group like $1 that does), found \"" + replacement + "\"");
                    replacement = null;
                }
                yield pattern == null || replacement == null ? null : new FilterConfig.RewritePath(pattern, replacement);
            }
            default -> { // replace
                allowedProperties(node, what, "kind", "pattern", "replacement", "max-bytes", "content-types");
                Pattern pattern = regexProperty(node, "pattern", 0);
                String replacement = requiredString(node, "replacement");
                Integer max = node.property("max-bytes").map(p -> positiveInt(p.value(), "max-bytes")).orElse(1 << 20);
                List<String> types = node.property("content-types").map(this::stringOrEmpty)
                        .map(t -> List.of(t.split(",")).stream().map(String::strip).filter(x -> !x.isEmpty()).toList())
                        .orElse(List.of("text/"));
                yield pattern == null || replacement == null || max == null ? null : new FilterConfig.ReplaceBody(pattern, replacement, max, types);
            }
        };
    }

    private FilterConfig.Rejection rejection(KdlNode node, int defaultStatus) {
        Integer status = statusProperty(node, defaultStatus);
        String body = node.property("body").map(this::stringOrEmpty).orElse("");
        return status == null ? null : new FilterConfig.Rejection(status, body);
    }

    private Integer statusProperty(KdlNode node, int defaultStatus) {
        Optional<KdlProperty> p = node.property("status");
        if (p.isEmpty()) {
            return defaultStatus;
        }
        return status(p.get().value());
    }

    private Integer status(KdlValue value) {
        Integer status = positiveInt(value, "status");
        if (status != null && (status < 200 || status > 599)) {
            problems.add(where(value.position()), "status must be 200 to 599, found " + status);
            return null;
        }
        return status;
    }

    private Pattern regexProperty(KdlNode node, String key, int flags) {
        String regex = requiredString(node, key);
        return regex == null ? null : rules.regex(regex, key, where(node.property(key).get().value().position()), flags);
    }

    private String headerName(KdlNode node, String key) {
        String name = requiredString(node, key);
        return name == null ? null : rules.headerName(name, key, where(node.property(key).get().value().position()));
    }

    /** A header-name glob as an anchored, case-insensitive regular expression. */
    static Pattern globPattern(String glob) {
        StringBuilder regex = new StringBuilder("^");
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.append('$').toString(), Pattern.CASE_INSENSITIVE);
    }

    // ---- rate limiting ----------------------------------------------------------------------------

    /** The rules, and where their buckets live ({@code redis "URL"}, an extension). */
    record RateLimiting(List<RateLimitRule> rules, Optional<RequestGuards.RedisLimits> redis) {}

    RateLimiting rateLimiting(KdlNode node) {
        noEntries(node);
        List<RateLimitRule> rules = new ArrayList<>();
        Optional<RequestGuards.RedisLimits> redis = Optional.empty();
        for (KdlNode child : node.children()) {
            if (child.name().equals("redis")) {
                if (redis.isPresent()) {
                    duplicate(child);
                }
                String url = string(singleArgument(child, "key-prefix", "timeout-ms"), "redis");
                String prefix = child.property("key-prefix").map(this::stringOrNull).orElse("river");
                Integer timeoutMs = child.property("timeout-ms").isPresent()
                        ? positiveInt(child.property("timeout-ms").get().value(), "timeout-ms")
                        : Integer.valueOf(RequestGuards.RedisLimits.DEFAULT_TIMEOUT_MS);
                if (url != null && !url.startsWith("redis://") && !url.startsWith("rediss://")) {
                    problems.add(where(child.arguments().get(0).position()), "redis expects a redis:// or rediss:// URL, found \"" + url + "\"");
                } else if (url != null && prefix != null && timeoutMs != null) {
                    redis = Optional.of(new RequestGuards.RedisLimits(url, prefix, timeoutMs));
                }
                continue;
            }
            if (!child.name().equals("rule")) {
                unknownNode(child, "in rate-limiting", "rule, redis");
                continue;
            }
            RateLimitRule rule = rule(child);
            if (rule != null) {
                rules.add(rule);
            }
        }
        return new RateLimiting(rules, redis);
    }

    private RateLimitRule rule(KdlNode node) {
        noArguments(node);
        noChildren(node);
        Optional<KdlProperty> kindProperty = node.property("kind");
        if (kindProperty.isEmpty()) {
            problems.add(where(node.position()), "rule needs kind=\"source-ip\", \"specific-uri\" or \"any-matching-uri\"");
            return null;
        }
        String kind = stringOrNull(kindProperty.get());
        if (kind == null) {
            return null;
        }
        switch (kind) {
            case "source-ip" -> {
                allowedProperties(node, "rule kind=\"source-ip\"", "kind", "max-buckets", "tokens-per-bucket", "refill-qty", "refill-rate-ms");
                Integer maxBuckets = requiredPositiveInt(node, "max-buckets");
                RateLimitRule.TokenBucketSpec bucket = bucket(node);
                return maxBuckets == null || bucket == null ? null : new RateLimitRule.SourceIp(maxBuckets, bucket);
            }
            case "specific-uri" -> {
                allowedProperties(node, "rule kind=\"specific-uri\"", "kind", "pattern", "max-buckets", "tokens-per-bucket", "refill-qty", "refill-rate-ms");
                Pattern pattern = requiredRegex(node);
                Integer maxBuckets = requiredPositiveInt(node, "max-buckets");
                RateLimitRule.TokenBucketSpec bucket = bucket(node);
                return pattern == null || maxBuckets == null || bucket == null ? null : new RateLimitRule.SpecificUri(pattern, maxBuckets, bucket);
            }
            case "any-matching-uri" -> {
                allowedProperties(node, "rule kind=\"any-matching-uri\" (one shared bucket, so no max-buckets)", "kind", "pattern", "tokens-per-bucket", "refill-qty", "refill-rate-ms");
                Pattern pattern = requiredRegex(node);
                RateLimitRule.TokenBucketSpec bucket = bucket(node);
                return pattern == null || bucket == null ? null : new RateLimitRule.AnyMatchingUri(pattern, bucket);
            }
            default -> {
                problems.add(where(kindProperty.get().value().position()),
                        "unknown rule kind \"" + kind + "\"; expected \"source-ip\", \"specific-uri\" or \"any-matching-uri\"");
                return null;
            }
        }
    }

    private RateLimitRule.TokenBucketSpec bucket(KdlNode node) {
        Integer tokens = requiredPositiveInt(node, "tokens-per-bucket");
        Integer refill = requiredPositiveInt(node, "refill-qty");
        Integer rate = requiredPositiveInt(node, "refill-rate-ms");
        return tokens == null || refill == null || rate == null ? null : new RateLimitRule.TokenBucketSpec(tokens, refill, rate);
    }

    // ---- normalization, client-ip, overload -------------------------------------------------------

    private static final List<String> CHECKS = List.of("dot-segments", "duplicate-slashes", "encoded-separators", "control-characters",
            "percent-encoding", "host", "header-non-ascii");

    RequestGuards.Normalization normalization(KdlNode node) {
        noEntries(node);
        Map<String, Boolean> set = new java.util.HashMap<>();
        Boolean baseline = null;
        int status = RequestGuards.Normalization.DEFAULT.status();
        String body = "";
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name())) {
                duplicate(child);
            }
            if (child.name().equals("status")) {
                Integer s = status(singleArgument(child));
                status = s == null ? status : s;
            } else if (child.name().equals("body")) {
                String b = string(singleArgument(child), "body");
                body = b == null ? body : b;
            } else if (child.name().equals("default")) {
                baseline = bool(singleArgument(child), "default");
            } else if (CHECKS.contains(child.name())) {
                Boolean on = bool(singleArgument(child), child.name());
                if (on != null) {
                    set.put(child.name(), on);
                }
            } else {
                unknownNode(child, "in normalization", "default, " + String.join(", ", CHECKS) + ", status, body");
            }
        }
        // "default" sets the baseline of every check not named, wherever it is written.
        RequestGuards.Normalization d = RequestGuards.Normalization.DEFAULT;
        boolean[] on = new boolean[CHECKS.size()];
        boolean[] defaults = {d.dotSegments(), d.duplicateSlashes(), d.encodedSeparators(), d.controlCharacters(), d.percentEncoding(), d.host(),
            d.headerNonAscii()};
        for (int i = 0; i < on.length; i++) {
            Boolean named = set.get(CHECKS.get(i));
            on[i] = named != null ? named : baseline != null ? baseline : defaults[i];
        }
        return new RequestGuards.Normalization(on[0], on[1], on[2], on[3], on[4], on[5], on[6], status, body);
    }

    RequestGuards.ClientIp clientIp(KdlNode node) {
        noEntries(node);
        List<CidrRange> trusted = null;
        String header = "x-forwarded-for";
        boolean sawTrusted = false;
        for (KdlNode child : node.children()) {
            switch (child.name()) {
                case "trusted-proxies" -> {
                    if (sawTrusted) {
                        duplicate(child);
                    }
                    sawTrusted = true;
                    String list = string(singleArgument(child), "trusted-proxies");
                    trusted = list == null ? null : rules.cidrList(list, where(child.arguments().get(0).position()));
                }
                case "header" -> {
                    String h = string(singleArgument(child), "header");
                    header = h == null ? header
                            : rules.headerName(h, "header", where(child.arguments().get(0).position()));
                }
                default -> unknownNode(child, "in client-ip", "trusted-proxies, header");
            }
        }
        if (!sawTrusted) {
            problems.add(where(node.position()), "client-ip needs trusted-proxies \"CIDRS\": a forwarding header is only believed from known proxies");
        }
        return trusted == null || header == null ? null : new RequestGuards.ClientIp(trusted, header.toLowerCase(Locale.ROOT));
    }

    RequestGuards.Overload overload(KdlNode node) {
        noEntries(node);
        Map<String, Integer> values = new java.util.HashMap<>();
        int status = 503;
        String body = "";
        List<String> numbers = List.of("max-concurrent-requests", "max-headers", "max-header-bytes", "read-timeout-ms", "write-timeout-ms",
                "drain-timeout-ms", "min-send-rate-bytes");
        Set<String> seen = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name())) {
                duplicate(child);
            }
            if (numbers.contains(child.name())) {
                Integer n = positiveInt(singleArgument(child), child.name());
                if (n != null) {
                    values.put(child.name(), n);
                }
            } else if (child.name().equals("status")) {
                Integer s = status(singleArgument(child));
                status = s == null ? status : s;
            } else if (child.name().equals("body")) {
                String b = string(singleArgument(child), "body");
                body = b == null ? body : b;
            } else {
                unknownNode(child, "in overload", String.join(", ", numbers) + ", status, body");
            }
        }
        return new RequestGuards.Overload(values.getOrDefault("max-concurrent-requests", 0), values.getOrDefault("max-headers", 0),
                values.getOrDefault("max-header-bytes", 0), values.getOrDefault("read-timeout-ms", 0), values.getOrDefault("write-timeout-ms", 0),
                values.getOrDefault("drain-timeout-ms", 0), values.getOrDefault("min-send-rate-bytes", 0), status, body);
    }

    // ---- limits (the connection-level keys; HttpSettings holds the rest) ----------------------------

    /** The client limits of a service's {@code limits} node (which the engine settings also read), or the defaults. */
    ClientLimits clientLimits(KdlNode node) {
        ClientLimits d = ClientLimits.defaults();
        if (node == null) {
            return d;
        }
        return new ClientLimits(
                limit(node, "max-connections", d.maxConnections(), true),
                limit(node, "max-connections-per-address", d.maxConnectionsPerAddress(), true),
                limit(node, "max-connection-rate-per-address", d.maxConnectionRatePerAddress(), true),
                limit(node, "max-concurrent-streams", d.maxConcurrentStreams(), false),
                limit(node, "max-pipelined-requests", d.maxPipelinedRequests(), true),
                limit(node, "max-request-headers", d.maxRequestHeaders(), false),
                byteLimit(node, "max-request-body-bytes", d.maxRequestBodyBytes()));
    }

    private int limit(KdlNode node, String key, int defaultValue, boolean zeroAllowed) {
        Optional<KdlProperty> p = node.property(key);
        if (p.isEmpty()) {
            return defaultValue;
        }
        Integer v = zeroAllowed ? nonNegativeInt(p.get().value(), key) : positiveInt(p.get().value(), key);
        return v == null ? defaultValue : v;
    }

    /** A byte count that may pass 2 GiB (a request body); 0 for no limit. */
    private long byteLimit(KdlNode node, String key, long defaultValue) {
        Optional<KdlProperty> p = node.property(key);
        if (p.isEmpty()) {
            return defaultValue;
        }
        KdlValue value = p.get().value();
        if (value instanceof KdlValue.Num n && n.isInteger()) {
            java.math.BigInteger i = (java.math.BigInteger) n.value();
            if (i.signum() >= 0 && i.bitLength() < 63) {
                return i.longValue();
            }
        }
        problems.add(where(value.position()), key + " expects a non-negative integer, found "
                + (value instanceof KdlValue.Num n ? n.value() : value.kindName()));
        return defaultValue;
    }
}
