package river.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import river.headers.CompactHeaders;

/**
 * Netty's request decoder, made strict where a proxy must be: a request with both Content-Length and
 * Transfer-Encoding is invalid (Netty would drop Content-Length and go on, which a server behind a
 * proxy may read differently: the classic smuggling shape).
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    private final Http1Connection connection;

    StrictRequestDecoder(Http1Connection connection, int maxRequestLineBytes, int maxHeaderBytes) {
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
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        // Tells the connection bytes arrived, without a pipeline hop of its own.
        connection.onBytes();
        super.channelRead(ctx, msg);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
    }
}
