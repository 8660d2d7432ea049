package river.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.SSLHandshakeException;

/**
 * The first handler of a connection to a listener with {@code acme-domains}: once Netty has the whole
 * ClientHello (reassembled from however many records and reads it came in), reads its server name and
 * ALPN offer, asks {@link ServerTls#select} for a context and replaces itself with that context's
 * TLS handler. An acme-tls/1 offer for a managed name without a challenge of this process's first waits (without
 * blocking) for another fleet member's, if it published one. A TLS-ALPN-01 challenge handshake is closed once done; a ClientHello with no
 * certificate to answer it, or one that does not parse, gets a fatal alert and the connection is
 * closed, counted as a failed handshake.
 */
final class ManagedSniHandler extends AbstractSniHandler<ServerTls.Selection> {
    /** TLS alerts (RFC 8446 §6): decode_error and unrecognized_name. */
    static final int DECODE_ERROR = 50;
    static final int UNRECOGNIZED_NAME = 112;

    private final ServerTls tls;
    private ClientHello hello = ClientHello.NONE;

    ManagedSniHandler(ServerTls tls, long handshakeTimeoutMillis) {
        super(handshakeTimeoutMillis);
        this.tls = tls;
    }

    @Override
    protected Future<ServerTls.Selection> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        hello = ClientHello.parse(clientHello);
        return lookup(ctx, hello.serverName());
    }

    @Override
    protected Future<ServerTls.Selection> lookup(ChannelHandlerContext ctx, String hostname) {
        if (hello.malformed()) {
            return ctx.executor().newSucceededFuture(null);
        }
        boolean acmeTls = hello.offersAcmeTls();
        CompletionStage<SslContext> shared = tls.sharedChallenge(hostname, acmeTls);
        if (shared == null) {
            return ctx.executor().newSucceededFuture(tls.select(hostname, acmeTls));
        }
        // A fleet member's challenge, asked for without blocking: the ClientHello waits in this handler (reads
        // suspended, the handshake timeout running) and the choice is made when the answer comes.
        Promise<ServerTls.Selection> chosen = ctx.executor().newPromise();
        shared.whenComplete((context, error) -> chosen.trySuccess(context != null ? new ServerTls.Selection(context, true)
                : tls.select(hostname, acmeTls)));
        return chosen;
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<ServerTls.Selection> future) {
        if (ctx.isRemoved()) {
            return; // the connection ended while a fleet member's challenge was looked up
        }
        ServerTls.Selection selection = future.getNow();
        if (selection == null) {
            refuse(ctx, hello.malformed() ? DECODE_ERROR : UNRECOGNIZED_NAME, hello.malformed() ? "malformed ClientHello"
                    : "no certificate for server name " + (hello.serverName() == null ? "(none sent)" : hello.serverName()));
            return;
        }
        SslHandler ssl = selection.context().newHandler(ctx.alloc());
        ssl.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        try {
            ctx.pipeline().replace(this, ctx.name(), ssl);
            if (selection.challenge()) {
                String after = ctx.pipeline().get(ServerTls.OUTCOME_HANDLER) != null ? ServerTls.OUTCOME_HANDLER : ctx.name();
                ctx.pipeline().addAfter(after, "acme-tls-1", new ChallengeCloser());
            }
            ssl = null;
        } finally {
            if (ssl != null) {
                ReferenceCountUtil.safeRelease(ssl.engine());
            }
        }
    }

    /** Sends a fatal alert, reports the failed handshake to the handlers after this one, and closes. */
    private void refuse(ChannelHandlerContext ctx, int alert, String why) {
        // A TLS 1.2 record header carrying one fatal alert: what BoringSSL itself sends before closing.
        ByteBuf record = Unpooled.wrappedBuffer(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, (byte) alert});
        ctx.writeAndFlush(record).addListener(ChannelFutureListener.CLOSE);
        ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(new SSLHandshakeException(why)));
        // What the client sends from now on is dropped (the ClientHello first).
        ctx.pipeline().replace(this, ctx.name(), new Discard());
    }

    /** Drops everything read: the connection is being closed. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * After a TLS-ALPN-01 handshake: the validation is the handshake itself, so the connection is closed
     * once it is done (RFC 8737 §3), and never reaches HTTP.
     */
    static final class ChallengeCloser extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
