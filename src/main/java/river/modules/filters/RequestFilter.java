package river.modules.filters;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.regex.Matcher;
import river.config.CidrSet;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/** One filter of the {@code request-filters} stage, built once. */
interface RequestFilter {
    /** The answer if this filter rejects or redirects the request, else null (the request goes on). */
    Verdict apply(RequestContext ctx);

    /**
     * {@code block-cidr-range} ({@code allow} false) and {@code allow-cidr-range}. A Unix-socket
     * client has no address: it is in no range, so a block list lets it through and an allow list
     * rejects it.
     */
    record Address(CidrSet ranges, boolean allow, int status, String body) implements RequestFilter {
        @Override
        public Verdict apply(RequestContext ctx) {
            boolean in = ctx.client() != null && ranges.contains(ctx.client().getAddress());
            return in == allow ? null : Verdict.text(status, body);
        }
    }

    /**
     * {@code redirect}: the location may use the path's groups ({@code $1}); the query is kept unless
     * the location has its own.
     */
    record Redirect(ReusedMatcher paths, String location, HttpResponseStatus status) implements RequestFilter {
        @Override
        public Verdict apply(RequestContext ctx) {
            Matcher m = paths.on(ctx.path());
            if (!m.find()) {
                return null;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
            head.headers().set(HttpHeaderNames.LOCATION, target(ctx, m)).setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            return new Verdict.Respond(head, new Verdict.Body.Empty());
        }

        private String target(RequestContext ctx, Matcher m) {
            StringBuilder expanded = new StringBuilder();
            m.appendReplacement(expanded, location);
            // appendReplacement also copied the path before the match: keep only the template's text.
            StringBuilder out = new StringBuilder(expanded.substring(m.start()));
            String uri = ctx.request().uri();
            int q = uri.indexOf('?');
            if (q >= 0 && out.indexOf("?") < 0) {
                out.append(uri, q, uri.length());
            }
            return out.toString();
        }
    }

    /** {@code rewrite-path}: the first match in the path is replaced. */
    record RewritePath(ReusedMatcher paths, String replacement) implements RequestFilter {
        @Override
        public Verdict apply(RequestContext ctx) {
            Matcher m = paths.on(ctx.path());
            if (m.find()) {
                ctx.rewritePath(m.replaceFirst(replacement));
            }
            return null;
        }
    }
}
