package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import org.junit.jupiter.api.Test;

/**
 * The stream's first handler refuses, as PROTOCOL_ERROR, what Netty's conversion to HTTP/1 would fail
 * on after allocating for it: a CONNECT whose :authority has a space, and trailers with pseudo-header
 * fields (which Netty would take, with END_STREAM, for a new request).
 */
class ExtendedConnectTest {
    private static EmbeddedChannel stream() {
        return new EmbeddedChannel(new ExtendedConnect(), new Http2StreamFrameToHttpObjectCodec(true));
    }

    @Test
    void aConnectWhoseAuthorityHasASpaceIsRefused() {
        EmbeddedChannel stream = stream();
        stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("CONNECT").authority("[)?name%[ "), true));
        assertThat((Object) stream.readInbound()).isNull();
        Http2ResetFrame reset = stream.readOutbound();
        assertThat(reset.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        assertThat(stream.finishAndReleaseAll()).isFalse();
    }

    @Test
    void trailersWithPseudoHeadersAreRefusedAndOrdinaryTrailersPass() {
        EmbeddedChannel ok = stream();
        ok.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("https").path("/up")));
        HttpRequest head = ok.readInbound();
        assertThat(head.uri()).isEqualTo("/up");
        ok.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(new byte[] {1, 2, 3})));
        io.netty.handler.codec.http.HttpContent body = ok.readInbound();
        body.release();
        ok.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("checksum", "abc"), true));
        LastHttpContent trailers = ok.readInbound();
        assertThat(trailers.trailingHeaders().get("checksum")).isEqualTo("abc");
        trailers.release();
        assertThat(ok.finishAndReleaseAll()).isFalse();

        EmbeddedChannel bad = stream();
        bad.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("https").path("/up")));
        HttpRequest first = bad.readInbound();
        assertThat(first).isNotInstanceOf(FullHttpRequest.class);
        bad.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").scheme("https").path("/a b"), true));
        assertThat((Object) bad.readInbound()).isNull();
        Http2ResetFrame reset = bad.readOutbound();
        assertThat(reset.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        assertThat(bad.finishAndReleaseAll()).isFalse();
    }
}
