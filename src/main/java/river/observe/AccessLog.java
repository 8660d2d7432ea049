package river.observe;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;

/**
 * Writes one line per request to the {@code river.access} logger: who asked for what, what came back,
 * where it went and how long each part took. Lines are key=value so that log tools can parse them.
 */
public final class AccessLog implements ProxyModule {
    private static final Logger LOG = LoggerFactory.getLogger("river.access");

    @Override
    public void onLogging(RequestContext ctx) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder(256);
        line.append("service=").append(ctx.service())
                .append(" client=").append(ctx.client() == null ? "unix" : ctx.client().getAddress().getHostAddress())
                .append(" method=").append(ctx.request().method().name())
                .append(" path=").append(ctx.path())
                .append(" status=").append(ctx.status() == null ? "-" : Integer.toString(ctx.status().code()))
                .append(" bytes_in=").append(ctx.bytesIn())
                .append(" bytes_out=").append(ctx.bytesOut())
                .append(" upstream=").append(ctx.peer() == null ? "-" : ctx.peer().label());
        if (ctx.peer() != null) {
            line.append(" reused=").append(ctx.upstreamReused()).append(" attempts=").append(ctx.attempts());
        }
        line.append(" connect_ms=");
        millis(line, ctx.connectNanos());
        line.append(" head_ms=");
        millis(line, ctx.responseHeadNanos());
        line.append(" total_ms=");
        millis(line, ctx.totalNanos());
        if (ctx.error() != null) {
            line.append(" error=").append(ctx.error().name().toLowerCase(java.util.Locale.ROOT));
        }
        LOG.info(line.toString());
    }

    /** Appends nanoseconds as milliseconds with three decimals, or "-" when unknown. */
    static void millis(StringBuilder line, long nanos) {
        if (nanos < 0) {
            line.append('-');
            return;
        }
        long micros = TimeUnit.NANOSECONDS.toMicros(nanos);
        long fraction = micros % 1000;
        line.append(micros / 1000).append('.');
        if (fraction < 100) {
            line.append(fraction < 10 ? "00" : "0");
        }
        line.append(fraction);
    }
}
