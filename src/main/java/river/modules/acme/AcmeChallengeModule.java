package river.modules.acme;

import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * Answers ACME HTTP-01 challenges (RFC 8555 §8.3) on cleartext connections, first among the modules so that no
 * rate limit, filter or redirect stands in the way: {@code GET /.well-known/acme-challenge/<token>} gets the key
 * authorization when the token belongs to an order in flight; any other request (another token, TLS, another
 * method) goes on as usual, so an upstream's own ACME client keeps working. The lookup is the ACME client's
 * board (a map read, never blocking); this package knows nothing else of ACME.
 */
public final class AcmeChallengeModule implements ProxyModule {
    public static final String PREFIX = "/.well-known/acme-challenge/";
    private final Function<String, String> keyAuthorizations;

    public AcmeChallengeModule(Function<String, String> keyAuthorizations) {
        this.keyAuthorizations = keyAuthorizations;
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        String answer = answer(ctx);
        return answer == null ? Verdict.CONTINUE_NOW : Verdict.textNow(200, answer);
    }

    /** The key authorization to answer with, or null to let the request pass. */
    String answer(RequestContext ctx) {
        String path = ctx.path();
        if (ctx.secure() || !path.startsWith(PREFIX) || !ctx.request().method().equals(io.netty.handler.codec.http.HttpMethod.GET)) {
            return null;
        }
        String token = path.substring(PREFIX.length());
        if (token.isEmpty() || token.indexOf('/') >= 0) {
            return null;
        }
        return keyAuthorizations.apply(token);
    }
}
