package river.modules.acme;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * Answers ACME HTTP-01 challenges (RFC 8555 §8.3) on cleartext connections, first among the modules so that no
 * rate limit, filter or redirect stands in the way: {@code GET /.well-known/acme-challenge/<token>} gets the key
 * authorization when the token belongs to an order in flight; any other request (another token, TLS, another
 * method) goes on as usual, so an upstream's own ACME client keeps working. The lookup is the ACME client's: a map
 * read for this River's own orders, and in fleet mode an asynchronous Redis read for another member's, which the
 * request waits for without holding its event loop; this package knows nothing else of ACME.
 */
public final class AcmeChallengeModule implements ProxyModule {
    public static final String PREFIX = "/.well-known/acme-challenge/";
    /** A token's key authorization, completing with null when no order in flight has it; never completing exceptionally. */
    private final Function<String, CompletionStage<String>> keyAuthorizations;

    public AcmeChallengeModule(Function<String, CompletionStage<String>> keyAuthorizations) {
        this.keyAuthorizations = keyAuthorizations;
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        String token = token(ctx);
        if (token == null) {
            return Verdict.CONTINUE_NOW;
        }
        CompletableFuture<String> answer = keyAuthorizations.apply(token).toCompletableFuture();
        if (answer.isDone() && !answer.isCompletedExceptionally()) {
            String keyAuthorization = answer.getNow(null);
            return keyAuthorization == null ? Verdict.CONTINUE_NOW : Verdict.textNow(200, keyAuthorization);
        }
        return answer.handle((keyAuthorization, error) -> keyAuthorization == null ? Verdict.CONTINUE
                : Verdict.text(200, keyAuthorization));
    }

    /** The token a request asks for, or null when it is no HTTP-01 validation (and goes on untouched). */
    static String token(RequestContext ctx) {
        String path = ctx.path();
        if (ctx.secure() || !path.startsWith(PREFIX) || !ctx.request().method().equals(io.netty.handler.codec.http.HttpMethod.GET)) {
            return null;
        }
        String token = path.substring(PREFIX.length());
        return token.isEmpty() || token.indexOf('/') >= 0 ? null : token;
    }
}
