package river.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which coding a request's Accept-Encoding gets, and which responses are left alone. */
class CompressionRulesTest {
    private static final List<String> ALL = List.of("br", "zstd", "gzip");
    private static final Compression ON = new Compression(true, ALL, 1024, List.of("text/*", "application/json", "+xml"), 6, 4, 3);

    @Test
    void qValuesDecideAndTiesGoByPreference() {
        assertThat(Compression.negotiate("gzip, br, zstd", ALL)).isEqualTo("br");
        assertThat(Compression.negotiate("gzip, br, zstd", List.of("gzip", "zstd", "br"))).isEqualTo("gzip");
        assertThat(Compression.negotiate("gzip;q=1.0, br;q=0.8", ALL)).isEqualTo("gzip");
        assertThat(Compression.negotiate("br;q=0, gzip", ALL)).isEqualTo("gzip");
        assertThat(Compression.negotiate("*", ALL)).isEqualTo("br");
        assertThat(Compression.negotiate("*;q=0.5, br;q=0, zstd;q=0", ALL)).isEqualTo("gzip");
        assertThat(Compression.negotiate("identity", ALL)).isNull();
        assertThat(Compression.negotiate("gzip;q=0, *;q=0", ALL)).isNull();
        assertThat(Compression.negotiate("deflate", ALL)).isNull();
        assertThat(Compression.negotiate("x-gzip", ALL)).isEqualTo("gzip");
        assertThat(Compression.negotiate("GZIP ; Q=0.3", ALL)).isEqualTo("gzip");
        assertThat(Compression.negotiate("", ALL)).isNull();
        assertThat(Compression.negotiate(null, ALL)).isNull();
    }

    @Test
    void typesMatchExactlyByWildcardOrSuffix() {
        assertThat(ON.compressible("text/html; charset=utf-8")).isTrue();
        assertThat(ON.compressible("Application/JSON")).isTrue();
        assertThat(ON.compressible("application/atom+xml")).isTrue();
        assertThat(ON.compressible("text/event-stream")).isFalse();
        assertThat(ON.compressible("image/png")).isFalse();
        assertThat(ON.compressible(null)).isFalse();
    }

    private static HttpResponse response(String type, Object length) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set("content-type", type);
        if (length != null) {
            r.headers().set("content-length", length);
        }
        return r;
    }

    private static HttpRequest request(HttpMethod method) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/");
        r.headers().set("accept-encoding", "gzip");
        return r;
    }

    @Test
    void headIsRewrittenOnlyWhenCompressing() {
        HttpResponse r = response("text/plain", 5000);
        r.headers().set("etag", "\"x\"").set("accept-ranges", "bytes");
        assertThat(ON.decide(request(HttpMethod.GET), r, true, ALL)).isEqualTo("gzip");
        assertThat(r.headers().get("content-encoding")).isEqualTo("gzip");
        assertThat(r.headers().contains("content-length")).isFalse();
        assertThat(r.headers().contains("accept-ranges")).isFalse();
        assertThat(r.headers().get("etag")).isEqualTo("W/\"x\"");
        assertThat(r.headers().get("vary")).isEqualTo("accept-encoding");

        HttpResponse weak = response("text/plain", null);
        weak.headers().set("etag", "W/\"x\"").set("vary", "accept-encoding");
        assertThat(ON.decide(request(HttpMethod.GET), weak, true, ALL)).isEqualTo("gzip");
        assertThat(weak.headers().get("etag")).isEqualTo("W/\"x\"");
        assertThat(weak.headers().getAll("vary")).containsExactly("accept-encoding");

        HttpResponse small = response("text/plain", 1023);
        assertThat(ON.decide(request(HttpMethod.GET), small, true, ALL)).isNull();
        assertThat(small.headers().get("content-length")).isEqualTo("1023");
        assertThat(ON.decide(request(HttpMethod.HEAD), response("text/plain", 5000), true, ALL)).isNull();
        assertThat(ON.decide(request(HttpMethod.GET), response("text/plain", 5000), false, ALL)).as("204, 304").isNull();
        HttpResponse encoded = response("text/plain", 5000);
        encoded.headers().set("content-encoding", "gzip");
        assertThat(ON.decide(request(HttpMethod.GET), encoded, true, ALL)).isNull();
        HttpResponse noTransform = response("text/plain", 5000);
        noTransform.headers().set("cache-control", "max-age=60, no-transform");
        assertThat(ON.decide(request(HttpMethod.GET), noTransform, true, ALL)).isNull();
        HttpResponse partial = response("text/plain", 5000);
        partial.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
        assertThat(ON.decide(request(HttpMethod.GET), partial, true, ALL)).isNull();
    }
}
