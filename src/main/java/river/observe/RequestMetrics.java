package river.observe;

import river.proxy.ProxyError;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.upstream.Peer;

/**
 * Records each request in its service's prepared data points, once, when it has ended; and each
 * failed connect attempt when it fails (the last attempt is recorded with the request). Installed
 * only when metrics are on, so that off costs nothing.
 */
public final class RequestMetrics implements ProxyModule {
    private static final double NANOS_PER_SECOND = 1e9;
    private final ServiceMetrics metrics;

    public RequestMetrics(ServiceMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public String name() {
        return "metrics";
    }

    @Override
    public ProxyError failToConnect(RequestContext ctx, Peer peer, ProxyError error) {
        if (peer != null) {
            PeerMetrics server = metrics.server(peer);
            server.newConnection.inc();
            countError(server, error);
            long started = ctx.attemptStartNanos();
            if (started >= 0) {
                // A failed attempt has no status; its duration still shows how long the failure took.
                server.duration.forStatus(0).observe(seconds(System.nanoTime() - ctx.startNanos() - started));
            }
        }
        return error;
    }

    @Override
    public void onLogging(RequestContext ctx) {
        int status = ctx.status() == null ? 0 : ctx.status().code();
        long total = ctx.totalNanos();
        metrics.duration(ctx.route(), ctx.request().method(), status).observe(seconds(total));
        if (ctx.bytesIn() > 0) {
            metrics.receivedBytes.inc(ctx.bytesIn());
        }
        if (ctx.bytesOut() > 0) {
            metrics.sentBytes.inc(ctx.bytesOut());
        }
        ProxyError error = ctx.error();
        if (error != null) {
            metrics.requestError(error.kind()).inc();
        }
        if (ctx.rejectedBy() != null) {
            metrics.rejection(ctx.rejectedBy()).inc();
        }
        Peer peer = ctx.peer();
        long started = ctx.attemptStartNanos();
        if (peer == null || started < 0 || ctx.connectNanos() < started) {
            return; // no upstream attempt reached a connection (a failed connect was counted when it failed)
        }
        PeerMetrics server = metrics.server(peer);
        if (ctx.upstreamReused()) {
            server.reusedConnection.inc();
        } else {
            server.newConnection.inc();
            server.connectDuration.observe(seconds(ctx.connectNanos() - started));
        }
        if (ctx.upstreamHeadNanos() >= 0) {
            server.timeToFirstByte.observe(seconds(ctx.upstreamHeadNanos() - started));
        }
        if (error != null && error.blamesUpstream()) {
            countError(server, error);
        }
        server.duration.forStatus(ctx.upstreamStatus()).observe(seconds(total - started));
    }

    private static void countError(PeerMetrics server, ProxyError error) {
        io.prometheus.metrics.core.datapoints.CounterDataPoint counter = server.error(error);
        if (counter != null) {
            counter.inc();
        }
    }

    private static double seconds(long nanos) {
        return nanos < 0 ? 0 : nanos / NANOS_PER_SECOND;
    }
}
