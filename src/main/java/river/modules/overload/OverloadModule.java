package river.modules.overload;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import river.config.RequestGuards;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River 0.8's {@code overload}: sheds requests beyond {@code max-concurrent-requests} (whoever sends
 * them, unlike rate limiting), and refuses request heads with more headers or header bytes than
 * allowed. Runs first, because shedding is the cheapest way to say no.
 */
public final class OverloadModule implements ProxyModule {
    private static final RequestContext.Key<Boolean> COUNTED = RequestContext.Key.of("overload.counted", Boolean.class);

    private final RequestGuards.Overload config;
    private final AtomicInteger inFlight = new AtomicInteger();

    public OverloadModule(RequestGuards.Overload config) {
        this.config = config;
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        if (config.maxHeaders() > 0 || config.maxHeaderBytes() > 0) {
            int count = 0;
            long bytes = 0;
            Iterator<Map.Entry<CharSequence, CharSequence>> it = ctx.request().headers().iteratorCharSequence();
            while (it.hasNext()) {
                Map.Entry<CharSequence, CharSequence> h = it.next();
                count++;
                bytes += h.getKey().length() + h.getValue().length() + 4; // "name: value\r\n"
            }
            if ((config.maxHeaders() > 0 && count > config.maxHeaders()) || (config.maxHeaderBytes() > 0 && bytes > config.maxHeaderBytes())) {
                return Verdict.textNow(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.code(), "");
            }
        }
        if (config.maxConcurrentRequests() > 0) {
            if (inFlight.incrementAndGet() > config.maxConcurrentRequests()) {
                inFlight.decrementAndGet();
                return Verdict.textNow(config.status(), config.body());
            }
            ctx.set(COUNTED, Boolean.TRUE);
        }
        return Verdict.CONTINUE_NOW;
    }

    @Override
    public void onLogging(RequestContext ctx) {
        if (ctx.get(COUNTED) != null) {
            inFlight.decrementAndGet();
        }
    }

}
