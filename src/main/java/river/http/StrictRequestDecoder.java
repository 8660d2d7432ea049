package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import river.headers.CompactHeaders;

/**
 * Netty's request decoder, made strict where a proxy must be: a request with both Content-Length and
 * Transfer-Encoding is invalid (Netty would drop Content-Length and go on, which a server behind a
 * proxy may read differently: the classic smuggling shape).
 *
 * <p>Plain bodiless heads, nearly all of them, are decoded by {@link RequestHeadScanner} without
 * Netty's per-line copies and per-field Strings; it declines anything else, and Netty's parser then
 * decides it as it always has. The scanner runs only while Netty's parser stands between two messages
 * with nothing of the next one consumed, so the two never share a message.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    /** Told of every read before it is decoded. */
    interface ReadListener {
        void onBytes();
    }

    private final ReadListener listener;
    private final int maxRequestLineBytes;
    private final int maxHeaderBytes;
    private final boolean scanPlainHeads;
    /** Netty's parser has finished its last message (or has seen none) and holds nothing of the next. */
    private boolean betweenMessages = true;

    StrictRequestDecoder(ReadListener listener, int maxRequestLineBytes, int maxHeaderBytes) {
        this(listener, maxRequestLineBytes, maxHeaderBytes, true);
    }

    /** {@code scanPlainHeads} false: Netty's parser alone, as the benchmark and the differential test compare. */
    StrictRequestDecoder(ReadListener listener, int maxRequestLineBytes, int maxHeaderBytes, boolean scanPlainHeads) {
        // Validating headers (names are tokens, values free of CR/LF/NUL). No setValidateHeaders
        // call: it would replace these factories with Netty's own.
        super(new HttpDecoderConfig()
                .setHeadersFactory(CompactHeaders.factory(true))
                .setTrailersFactory(CompactHeaders.trailersFactory())
                .setMaxInitialLineLength(maxRequestLineBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(64 * 1024)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false)
                .setUseRfc9112TransferEncoding(true));
        this.listener = listener;
        this.maxRequestLineBytes = maxRequestLineBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.scanPlainHeads = scanPlainHeads;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        // Tells the connection bytes arrived, without a pipeline hop of its own.
        listener.onBytes();
        super.channelRead(ctx, msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (betweenMessages && scanPlainHeads) {
            HttpRequest request = RequestHeadScanner.scan(in, maxRequestLineBytes, maxHeaderBytes);
            if (request != null) {
                out.add(request);
                out.add(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
        }
        int before = out.size();
        super.decode(ctx, in, out);
        betweenMessages = out.size() > before && endsMessage(out.get(out.size() - 1));
    }

    /**
     * Whether Netty's parser is back at the start after producing {@code last}: a message's last part,
     * decoded without error (after an error it discards everything until the connection closes).
     */
    private static boolean endsMessage(Object last) {
        return last instanceof LastHttpContent && ((HttpObject) last).decoderResult().isSuccess();
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
    }
}
