package river.observe;

import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.upstream.Peer;

/**
 * Writes one line per request: who asked for what, what came back, where it went and how long each
 * part took, as {@code key=value} text or as a JSON object (docs/observability.md#logs lists the
 * fields).
 *
 * <p>The line is encoded on the event loop that ran the request, into a buffer that thread reuses
 * ({@link LogLine}: field names encoded once, numbers and the timestamp written without formatting
 * objects), copied once and handed to the {@link AccessLogWriter}, which never makes the event loop
 * wait: a line the writer has no room for is dropped and counted ({@link #dropped()}).
 */
public final class AccessLog implements ProxyModule {
    /** Lines dropped in this process because a writer's queue was full, over every writer. */
    static final LongAdder DROPPED = new LongAdder();

    /** The two forms of a line. */
    public enum Format { TEXT, JSON }

    /** Wall-clock milliseconds (tests fix it). */
    @FunctionalInterface
    public interface Clock {
        long millis();
    }

    private static final FastThreadLocal<LogLine> LINE = new FastThreadLocal<>() {
        @Override
        protected LogLine initialValue() {
            return new LogLine();
        }
    };
    private static final byte[] DASH = LogLine.ascii("-");
    private static final byte[] NULL = LogLine.ascii("null");
    private static final byte[] UNIX = LogLine.ascii("unix");
    private static final byte[] TRUE = LogLine.ascii("true");
    private static final byte[] FALSE = LogLine.ascii("false");
    private static final Names TEXT_NAMES = new Names(false);
    private static final Names JSON_NAMES = new Names(true);

    /** Each field's name with what goes before it, encoded once per format. */
    private static final class Names {
        final byte[] ts, service, client, method, path, status, bytesIn, bytesOut, upstream, reused, attempts,
                connectMs, headMs, totalMs, error, end;

        Names(boolean json) {
            ts = LogLine.ascii(json ? "{\"ts\":\"" : "");
            service = LogLine.ascii(json ? "\",\"service\":" : " service=");
            client = name(json, "client");
            method = name(json, "method");
            path = name(json, "path");
            status = name(json, "status");
            bytesIn = name(json, "bytes_in");
            bytesOut = name(json, "bytes_out");
            upstream = name(json, "upstream");
            reused = name(json, "reused");
            attempts = name(json, "attempts");
            connectMs = name(json, "connect_ms");
            headMs = name(json, "head_ms");
            totalMs = name(json, "total_ms");
            error = name(json, "error");
            end = LogLine.ascii(json ? "}\n" : "\n");
        }

        private static byte[] name(boolean json, String name) {
            return LogLine.ascii(json ? ",\"" + name + "\":" : " " + name + "=");
        }
    }

    private final Format format;
    private final AccessLogWriter writer;
    private final Clock clock;

    public AccessLog(Format format, AccessLogWriter writer) {
        this(format, writer, System::currentTimeMillis);
    }

    public AccessLog(Format format, AccessLogWriter writer, Clock clock) {
        this.format = format;
        this.writer = writer;
        this.clock = clock;
    }

    /** Access-log lines dropped in this process since it started because a writer's queue was full (river_access_log_dropped_total). */
    public static long dropped() {
        return DROPPED.sum();
    }

    @Override
    public void onLogging(RequestContext ctx) {
        LogLine line = LINE.get().reset();
        encode(ctx, line);
        writer.offer(line.copy());
    }

    /** Writes the request's line (ending in a newline) into {@code line} (public for the microbenchmark). */
    public void encode(RequestContext ctx, LogLine line) {
        boolean json = format == Format.JSON;
        Names n = json ? JSON_NAMES : TEXT_NAMES;
        line.raw(n.ts).timestamp(clock.millis());
        line.raw(n.service);
        string(line, json, ctx.service());
        line.raw(n.client);
        InetSocketAddress client = ctx.client();
        if (client == null) {
            if (json) {
                line.jsonString("unix");
            } else {
                line.raw(UNIX);
            }
        } else if (client.getAddress() instanceof java.net.Inet4Address v4) {
            // Digits straight from the four bytes: getHostAddress() formats a new String every call.
            byte[] b = v4.getAddress();
            if (json) {
                line.raw('"');
            }
            line.number(b[0] & 0xff).raw('.').number(b[1] & 0xff).raw('.').number(b[2] & 0xff).raw('.').number(b[3] & 0xff);
            if (json) {
                line.raw('"');
            }
        } else {
            string(line, json, client.getAddress().getHostAddress());
        }
        line.raw(n.method);
        wire(line, json, ctx.request().method().name());
        line.raw(n.path);
        wire(line, json, ctx.path());
        line.raw(n.status);
        if (ctx.status() == null) {
            line.raw(json ? NULL : DASH);
        } else {
            line.number(ctx.status().code());
        }
        line.raw(n.bytesIn).number(ctx.bytesIn());
        line.raw(n.bytesOut).number(ctx.bytesOut());
        line.raw(n.upstream);
        Peer peer = ctx.peer();
        if (peer == null) {
            line.raw(json ? NULL : DASH);
        } else {
            string(line, json, peer.label());
            line.raw(n.reused).raw(ctx.upstreamReused() ? TRUE : FALSE);
            line.raw(n.attempts).number(ctx.attempts());
        }
        byte[] unknown = json ? NULL : DASH;
        line.raw(n.connectMs).millis(ctx.connectNanos(), unknown);
        line.raw(n.headMs).millis(ctx.responseHeadNanos(), unknown);
        line.raw(n.totalMs).millis(ctx.totalNanos(), unknown);
        if (ctx.error() != null) {
            line.raw(n.error);
            string(line, json, ctx.error().name().toLowerCase(Locale.ROOT));
        }
        line.raw(n.end);
    }

    /** Text as received (the request's method and path): bytes that form UTF-8 are logged as their characters. */
    private static void wire(LogLine line, boolean json, CharSequence s) {
        if (json) {
            line.jsonWireString(s);
        } else {
            line.textWireValue(s);
        }
    }

    private static void string(LogLine line, boolean json, CharSequence s) {
        if (json) {
            line.jsonString(s);
        } else {
            line.textValue(s);
        }
    }
}
