package river.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One path-control filter, by kind. Code that handles every kind does so through a {@link Visitor},
 * so that adding a kind fails to compile wherever it is not handled.
 */
public sealed interface FilterConfig {

    /** Hands this filter to the visitor's method for its kind. */
    <R> R accept(Visitor<R> visitor);

    /** One method per kind of filter. */
    interface Visitor<R> {
        R blockCidrRange(BlockCidrRange filter);

        R allowCidrRange(AllowCidrRange filter);

        R removeHeaderKeyRegex(RemoveHeaderKeyRegex filter);

        R removeHeaderKeyGlob(RemoveHeaderKeyGlob filter);

        R removeHeader(RemoveHeader filter);

        R upsertHeader(UpsertHeader filter);

        R appendHeader(AppendHeader filter);

        R maxSize(MaxSize filter);

        R redirect(Redirect filter);

        R rewritePath(RewritePath filter);

        R replaceBody(ReplaceBody filter);
    }

    /**
     * How a filter that rejects a request answers it.
     *
     * @param body the response body, empty for none
     */
    record Rejection(int status, String body) {
        public static Rejection of(int status) {
            return new Rejection(status, "");
        }
    }

    /** Rejects clients whose address falls in any of the ranges (default 403). */
    record BlockCidrRange(List<CidrRange> ranges, Rejection rejection) implements FilterConfig {
        public BlockCidrRange {
            ranges = List.copyOf(ranges);
        }

        public BlockCidrRange(List<CidrRange> ranges) {
            this(ranges, Rejection.of(403));
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.blockCidrRange(this);
        }
    }

    /** Rejects clients whose address falls in none of the ranges (default 403). */
    record AllowCidrRange(List<CidrRange> ranges, Rejection rejection) implements FilterConfig {
        public AllowCidrRange {
            ranges = List.copyOf(ranges);
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.allowCidrRange(this);
        }
    }

    /** Removes every header whose name matches the pattern (case-insensitively). */
    record RemoveHeaderKeyRegex(Pattern pattern) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.removeHeaderKeyRegex(this);
        }
    }

    /**
     * Removes every header whose name matches the glob ({@code *} any run, {@code ?} one character),
     * case-insensitively.
     *
     * @param pattern the glob compiled to an anchored regular expression
     */
    record RemoveHeaderKeyGlob(String glob, Pattern pattern) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.removeHeaderKeyGlob(this);
        }
    }

    /** Removes one header by name. */
    record RemoveHeader(String key) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.removeHeader(this);
        }
    }

    /** Sets a header, replacing any present with that name. */
    record UpsertHeader(String key, String value) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.upsertHeader(this);
        }
    }

    /** Adds a header, keeping any present with that name. */
    record AppendHeader(String key, String value) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.appendHeader(this);
        }
    }

    /**
     * Bounds a body ({@code request-body}: 413 by default; {@code response-body}: 502).
     */
    record MaxSize(long maxBytes, int status) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.maxSize(this);
        }
    }

    /**
     * Answers a request whose path matches with a redirect (extension): {@code location} may use the
     * pattern's groups ({@code $1}); the query string is kept unless the location has its own.
     */
    record Redirect(Pattern pattern, String location, int status) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.redirect(this);
        }
    }

    /** Rewrites the path sent upstream (extension): the first match of the pattern is replaced. */
    record RewritePath(Pattern pattern, String replacement) implements FilterConfig {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.rewritePath(this);
        }
    }

    /**
     * Rewrites a body (extension): every match of the pattern in the body, read as UTF-8, is
     * replaced. Bodies are held in memory up to {@code maxBytes}; a larger body passes unchanged.
     *
     * @param contentTypes the media types rewritten (prefix match, e.g. {@code text/}); empty for any
     */
    record ReplaceBody(Pattern pattern, String replacement, long maxBytes, List<String> contentTypes) implements FilterConfig {
        public ReplaceBody {
            contentTypes = List.copyOf(contentTypes);
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.replaceBody(this);
        }
    }
}
