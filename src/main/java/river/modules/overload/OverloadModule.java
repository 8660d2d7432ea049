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

    /** Each limit, 0 when not set. */
    private final int maxHeaders;
    private final int maxHeaderBytes;
    private final int maxConcurrent;
    private final int shedStatus;
    private final String shedBody;
    private final AtomicInteger inFlight = new AtomicInteger();

    public OverloadModule(RequestGuards.Overload config) {
        this.maxHeaders = config.maxHeaders();
        this.maxHeaderBytes = config.maxHeaderBytes();
        this.maxConcurrent = config.maxConcurrentRequests();
        this.shedStatus = config.status();
        this.shedBody = config.body();
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        if (maxHeaders > 0 || maxHeaderBytes > 0) {
            int count = 0;
            long bytes = 0;
            Iterator<Map.Entry<CharSequence, CharSequence>> it = ctx.request().headers().iteratorCharSequence();
            while (it.hasNext()) {
                Map.Entry<CharSequence, CharSequence> h = it.next();
                count++;
                bytes += h.getKey().length() + h.getValue().length() + 4; // "name: value\r\n"
            }
            if ((maxHeaders > 0 && count > maxHeaders) || (maxHeaderBytes > 0 && bytes > maxHeaderBytes)) {
                ctx.rejectedBy("overload max-headers");
                return Verdict.textNow(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.code(), "");
            }
        }
        if (maxConcurrent > 0) {
            if (inFlight.incrementAndGet() > maxConcurrent) {
                inFlight.decrementAndGet();
                ctx.rejectedBy("overload max-concurrent-requests");
                return Verdict.textNow(shedStatus, shedBody);
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
