package river.http;

import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * An engine for fuzz targets on embedded channels: every request that passes the codecs reaches its
 * one module, which records what was forwarded (the head and the client River named) and answers 200
 * itself, so nothing leaves the test JVM.
 */
final class AnsweringEngine implements ProxyModule {
    /** What reached the engine: the request as the phases saw it, and the client's address. */
    record Forwarded(HttpRequest request, InetSocketAddress client) {}

    final List<Forwarded> forwarded = new ArrayList<>();
    final ProxyEngine engine = new ProxyEngine("fuzz", List.of(this), null, null, new EngineSettings(60_000, 60_000, 60_000));

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        forwarded.add(new Forwarded(ctx.request(), ctx.client()));
        return Verdict.textNow(200, "ok");
    }
}
