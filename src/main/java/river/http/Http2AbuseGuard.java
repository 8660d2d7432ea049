package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.logging.LogLevel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts, on one HTTP/2 client connection, what the peer makes River do rather than only what it
 * sends, and ends the connection with GOAWAY(ENHANCE_YOUR_CALM) once it is over budget.
 *
 * <p>MadeYouReset (CVE-2025-8671) is the reason: the client sends frames that make the server
 * reset streams (a zero WINDOW_UPDATE, DATA on a stream it already half-closed), so it never sends
 * RST_STREAM itself and rapid-reset limits on received resets never trip, while every reset stream
 * may already have started work upstream. Here every reset counts, whichever side sent it, and the
 * resets River sends for protocol errors count on a tighter budget. Control frames (PING, SETTINGS,
 * PRIORITY) and tiny frames (small WINDOW_UPDATE increments, empty DATA) count too. Budgets are per
 * window of time and grow with the responses the connection completed, so a busy, well-behaved
 * connection earns room and a connection that gets nothing served has little.
 *
 * <p>It sees every frame because Netty's codec hands each one, both ways, to its frame logger; this
 * class is that logger. Going over budget writes the GOAWAY with the last stream the connection
 * created (RFC 9113 §6.8), so frames for newer streams are ignored, and closes the connection, which
 * closes every stream and so cancels their exchanges upstream. Runs on the connection's event loop.
 */
final class Http2AbuseGuard extends Http2FrameLogger {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Http2AbuseGuard.class);
    /** Connections closed for going over a budget; read by tests. */
    static final LongAdder TRIPPED = new LongAdder();
    /** A WINDOW_UPDATE granting less than this is a tiny frame: no real reader needs to send it. */
    static final int TINY_WINDOW_UPDATE = 1024;

    /**
     * The budgets, each "so many per window, plus so many per response completed in the window".
     *
     * @param windowNanos length of the accounting window
     * @param resets RST_STREAM frames either way
     * @param streamErrors RST_STREAM frames River sends for a protocol error (not CANCEL, not NO_ERROR)
     * @param controlFrames PING, SETTINGS and PRIORITY frames received
     * @param tinyFrames WINDOW_UPDATE below {@link #TINY_WINDOW_UPDATE} and empty DATA without END_STREAM
     */
    record Budgets(long windowNanos, Budget resets, Budget streamErrors, Budget controlFrames, Budget tinyFrames) {
        static Budgets defaults() {
            return new Budgets(TimeUnit.SECONDS.toNanos(10),
                    new Budget(100, 1), new Budget(10, 0.1), new Budget(100, 4), new Budget(500, 10));
        }
    }

    /** So many events per window, plus {@code perResponse} for each response completed in it. */
    record Budget(int base, double perResponse) {
        boolean exceededBy(int count, int responses) {
            return count > base + perResponse * responses;
        }
    }

    private final Budgets budgets;
    private final io.netty.util.concurrent.Ticker ticker;
    private Http2ConnectionHandler codec;
    private long windowStart;
    private int responses;
    private int resets;
    private int streamErrors;
    private int controlFrames;
    private int tinyFrames;
    private boolean tripped;

    Http2AbuseGuard(Budgets budgets, io.netty.util.concurrent.Ticker ticker) {
        super(LogLevel.TRACE, Http2AbuseGuard.class);
        this.budgets = budgets;
        this.ticker = ticker;
        this.windowStart = ticker.nanoTime();
    }

    private GoAwayLastStream lastStream;
    private LingeringClose linger;

    /**
     * The codec this guard watches, who corrects its GOAWAYs, and who ends the connection after one;
     * set once built, before any frame flows.
     */
    void watch(Http2ConnectionHandler codec, GoAwayLastStream lastStream, LingeringClose linger) {
        this.codec = codec;
        this.lastStream = lastStream;
        this.linger = linger;
    }

    boolean tripped() {
        return tripped;
    }

    private void rollWindow() {
        long now = ticker.nanoTime();
        if (now - windowStart >= budgets.windowNanos()) {
            windowStart = now;
            responses = 0;
            resets = 0;
            streamErrors = 0;
            controlFrames = 0;
            tinyFrames = 0;
        }
    }

    private void check(ChannelHandlerContext ctx, int count, Budget budget, String what) {
        if (!tripped && budget.exceededBy(count, responses)) {
            trip(ctx, what + " " + count + " within the window, " + responses + " responses completed");
        }
    }

    private void trip(ChannelHandlerContext ctx, String why) {
        tripped = true;
        TRIPPED.increment();
        // Attacker-driven: debug only, the counter is what operators and tests read.
        LOG.debug("HTTP/2 connection {} over budget ({}): GOAWAY(ENHANCE_YOUR_CALM) and close", ctx.channel(), why);
        int lastStream = codec.connection().remote().lastStreamCreated();
        // The GOAWAY must reach the peer: closing with its frames unread would reset the connection
        // and the peer would lose it. So: GOAWAY, FIN, then the peer's bytes are discarded until it
        // closes, for a bounded time. Every stream's exchange ends when the connection closes.
        ByteBuf debug = Unpooled.copiedBuffer("over budget: " + why, java.nio.charset.StandardCharsets.US_ASCII);
        codec.goAway(ctx, lastStream, Http2Error.ENHANCE_YOUR_CALM.code(), debug, ctx.newPromise())
                .addListener(written -> linger.begin());
        ctx.flush();
    }

    // ---- what the peer sends ------------------------------------------------------------------------

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
        rollWindow();
        resets++;
        if (direction == Direction.OUTBOUND && errorCode != Http2Error.CANCEL.code() && errorCode != Http2Error.NO_ERROR.code()) {
            streamErrors++;
            check(ctx, streamErrors, budgets.streamErrors(), "protocol-error resets");
        }
        check(ctx, resets, budgets.resets(), "stream resets");
    }

    @Override
    public void logPing(Direction direction, ChannelHandlerContext ctx, long data) {
        inboundControl(direction, ctx);
    }

    @Override
    public void logSettings(Direction direction, ChannelHandlerContext ctx, Http2Settings settings) {
        inboundControl(direction, ctx);
    }

    @Override
    public void logPriority(Direction direction, ChannelHandlerContext ctx, int streamId, int streamDependency, short weight, boolean exclusive) {
        inboundControl(direction, ctx);
    }

    private void inboundControl(Direction direction, ChannelHandlerContext ctx) {
        if (direction == Direction.INBOUND) {
            rollWindow();
            controlFrames++;
            check(ctx, controlFrames, budgets.controlFrames(), "control frames");
        }
    }

    @Override
    public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
        if (direction == Direction.INBOUND && windowSizeIncrement < TINY_WINDOW_UPDATE) {
            tiny(ctx);
        }
    }

    @Override
    public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endStream) {
        if (direction == Direction.OUTBOUND) {
            if (endStream) {
                responded();
            }
        } else if (!endStream && data.readableBytes() == 0 && padding == 0) {
            tiny(ctx);
        }
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endStream) {
        if (direction == Direction.OUTBOUND && endStream) {
            responded();
        }
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endStream) {
        logHeaders(direction, ctx, streamId, headers, padding, endStream);
    }

    private void tiny(ChannelHandlerContext ctx) {
        rollWindow();
        tinyFrames++;
        check(ctx, tinyFrames, budgets.tinyFrames(), "tiny frames");
    }

    /** A response ended on this connection: it earns the connection room in every budget. */
    private void responded() {
        rollWindow();
        responses++;
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        if (direction == Direction.OUTBOUND && lastStream != null) {
            lastStream.goAwayComing(lastStreamId, errorCode);
        }
    }

    // The rest of what the frame logger is told (settings acks, ping acks, unknown frames,
    // push promises, GOAWAY received) costs River nothing it must bound here; the base class only logs at TRACE.
}
