package river.modules.normalize;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.RequestGuards;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River 0.8's request normalization, on by default and first among the request phases: by the time
 * filters, rate limits and routes look at a request, {@code /static/../admin},
 * {@code /static/%2E%2E/admin} and {@code /static//..///admin} are all {@code /admin}. The query
 * string is left alone. A request that fails a check gets the configured status (400).
 */
public final class NormalizationModule implements ProxyModule {
    private static final Logger LOG = LoggerFactory.getLogger(NormalizationModule.class);

    private final boolean checkHost;
    private final boolean checkHeaderAscii;
    private final int status;
    private final String body;
    private final PathNormalizer paths;

    public NormalizationModule(RequestGuards.Normalization config) {
        this.checkHost = config.host();
        this.checkHeaderAscii = config.headerNonAscii();
        this.status = config.status();
        this.body = config.body();
        this.paths = new PathNormalizer(config.percentEncoding(), config.encodedSeparators(), config.controlCharacters(),
                config.duplicateSlashes(), config.dotSegments());
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        String problem = check(ctx);
        if (problem == null) {
            return Verdict.CONTINUE_NOW;
        }
        LOG.debug("rejected {} {}: {}", ctx.request().method(), ctx.request().uri(), problem);
        ctx.rejectedBy("normalization");
        return Verdict.textNow(status, body);
    }

    /** Normalizes the request in place; returns why it is refused, or null. */
    private String check(RequestContext ctx) {
        HttpHeaders headers = ctx.request().headers();
        if (checkHost) {
            List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
            if (hosts.size() > 1) {
                return "more than one Host header";
            }
            String uri = ctx.request().uri();
            int scheme = uri.indexOf("://");
            if (scheme > 0 && !uri.startsWith("/")) {
                int end = uri.indexOf('/', scheme + 3);
                String authority = uri.substring(scheme + 3, end < 0 ? uri.length() : end);
                if (hosts.size() == 1 && !hosts.get(0).equalsIgnoreCase(authority)) {
                    return "Host does not match the request line's authority";
                }
            }
        }
        if (checkHeaderAscii) {
            Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
            while (it.hasNext()) {
                Map.Entry<CharSequence, CharSequence> h = it.next();
                CharSequence value = h.getValue();
                for (int i = 0; i < value.length(); i++) {
                    if (value.charAt(i) > 0x7e) {
                        return "non-ASCII byte in header " + h.getKey();
                    }
                }
            }
        }
        String path = ctx.path();
        if (!path.startsWith("/")) {
            return null; // "*" (OPTIONS) or an absolute-form target: nothing to canonicalize here
        }
        PathNormalizer.Result result = paths.normalize(path);
        if (result.problem() != null) {
            return result.problem();
        }
        if (!result.path().equals(path)) {
            ctx.rewritePath(result.path());
        }
        return null;
    }
}
