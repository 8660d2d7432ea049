package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The timeouts of one HTTP/2 client connection, which HTTP/1's request-head guard does not cover:
 *
 * <ul>
 *   <li>first request: from the start, the preface, SETTINGS and a first complete HEADERS must come
 *       within {@code request-header-ms};
 *   <li>idle: a connection with no open stream is closed after {@code keepalive-idle-ms};
 *   <li>header: a HEADERS frame and its CONTINUATIONs, once begun, must be complete within
 *       {@code request-header-ms}, whatever else the connection does.
 * </ul>
 *
 * Each ends with GOAWAY (NO_ERROR when idle, ENHANCE_YOUR_CALM for a head too slow) naming the last
 * stream taken, then close. Sits before the codec and reads the frame headers going by, without
 * copying: a stream only exists for the codec once its header block is complete, so a head sent a
 * byte at a time is invisible above the codec. Bytes alone never reset a timer: a slowloris that
 * trickles a frame keeps no connection alive. One timer task per connection at a time, on its event
 * loop, reading the loop's ticker (tests move it).
 */
final class Http2ConnectionTimeouts extends ChannelDuplexHandler {
    /** Connections closed by each timeout; read by tests. */
    static final LongAdder IDLE_CLOSED = new LongAdder();
    static final LongAdder HEADER_CLOSED = new LongAdder();

    private static final int FRAME_HEADER = 9;
    private static final int PREFACE = 24;
    private static final byte HEADERS = 0x1;
    private static final byte CONTINUATION = 0x9;
    private static final int END_HEADERS = 0x4;

    private final long firstRequestNanos;
    private final long idleNanos;
    private final long headerNanos;
    private Http2ConnectionHandler codec;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private long timerAt;

    // The frame scanner: bytes of the preface still to skip, the partial frame header, the payload left.
    private int prefaceLeft = PREFACE;
    private final byte[] header = new byte[FRAME_HEADER];
    private int headerFill;
    private long payloadLeft;
    /** When the header block in progress began, or -1 when none is. */
    private long headBegan = -1;
    /** When the first byte of the frame being read arrived. */
    private long frameBegan;
    /** The frame being read ends a header block (END_HEADERS): the head is complete with its last byte. */
    private boolean endsHead;
    /** Since when the connection has had no open stream, or -1 while it has one. */
    private long idleSince;
    private boolean servedAny;
    private boolean closed;

    Http2ConnectionTimeouts(long firstRequestMs, long idleMs, long headerMs) {
        this.firstRequestNanos = TimeUnit.MILLISECONDS.toNanos(firstRequestMs);
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMs);
        this.headerNanos = TimeUnit.MILLISECONDS.toNanos(headerMs);
    }

    /** Follows {@code codec}'s streams; call before the connection reads. */
    void watch(Http2ConnectionHandler codec) {
        this.codec = codec;
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                servedAny = true;
                idleSince = -1;
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                Http2Connection connection = codec.connection();
                if (connection.numActiveStreams() == 0 && ctx != null) {
                    idleSince = now();
                    schedule();
                }
            }
        });
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        idleSince = now();
        if (ctx.channel().isActive()) {
            schedule();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        schedule();
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            boolean wasStalled = stalledSince() >= 0;
            scan(bytes, now());
            if (!wasStalled && stalledSince() >= 0) {
                schedule();
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Follows the frame boundaries in {@code bytes}, read at {@code readAt}, without moving its reader index. */
    private void scan(ByteBuf bytes, long readAt) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        if (prefaceLeft > 0) {
            int skip = Math.min(prefaceLeft, end - i);
            prefaceLeft -= skip;
            i += skip;
        }
        while (i < end) {
            if (payloadLeft > 0) {
                int skip = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= skip;
                i += skip;
            } else {
                if (headerFill == 0) {
                    frameBegan = readAt;
                }
                header[headerFill++] = bytes.getByte(i++);
                if (headerFill < FRAME_HEADER) {
                    continue;
                }
                headerFill = 0;
                payloadLeft = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
                byte type = header[3];
                if (type == HEADERS && headBegan < 0) {
                    headBegan = frameBegan;
                }
                if ((type == HEADERS || type == CONTINUATION) && (header[4] & END_HEADERS) != 0) {
                    endsHead = true;
                }
            }
            if (endsHead && payloadLeft == 0) {
                endsHead = false;
                headBegan = -1;
            }
        }
    }

    /**
     * Since when the connection has been in the middle of a head: a header block begun, or a frame
     * header not yet complete (which may be one); -1 if neither.
     */
    private long stalledSince() {
        return headBegan >= 0 ? headBegan : headerFill > 0 ? frameBegan : -1;
    }

    private void schedule() {
        if (closed || !ctx.channel().isActive()) {
            return;
        }
        long deadline = Long.MAX_VALUE;
        if (idleSince >= 0) {
            deadline = idleSince + (servedAny ? idleNanos : firstRequestNanos);
        }
        long stalled = stalledSince();
        if (stalled >= 0) {
            deadline = Math.min(deadline, stalled + headerNanos);
        }
        if (deadline == Long.MAX_VALUE || timer != null && timerAt <= deadline) {
            return; // nothing to time, or the pending check comes first and reschedules
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = deadline;
        timer = ctx.executor().schedule(this::expire, Math.max(0, deadline - now()), TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire() {
        timer = null;
        if (closed || !ctx.channel().isActive()) {
            return;
        }
        long now = now();
        long stalled = stalledSince();
        if (stalled >= 0 && now - stalled >= headerNanos) {
            HEADER_CLOSED.increment();
            close(Http2Error.ENHANCE_YOUR_CALM);
        } else if (idleSince >= 0 && now - idleSince >= (servedAny ? idleNanos : firstRequestNanos)) {
            IDLE_CLOSED.increment();
            close(Http2Error.NO_ERROR);
        } else {
            schedule();
        }
    }

    private void close(Http2Error error) {
        closed = true;
        ChannelHandlerContext codecContext = ctx.pipeline().context(codec);
        if (codecContext == null) {
            ctx.close();
            return;
        }
        int lastStream = codec.connection().remote().lastStreamCreated();
        codec.goAway(codecContext, lastStream, error.code(), Unpooled.EMPTY_BUFFER, codecContext.newPromise())
                .addListener(ChannelFutureListener.CLOSE);
        codecContext.flush();
    }
}
