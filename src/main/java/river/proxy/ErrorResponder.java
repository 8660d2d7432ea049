package river.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The one place a {@link ProxyError} becomes what the client sees: a status with a one-line plain-text
 * body for HTTP clients, and for gRPC calls HTTP 200 with the status in trailers (an HTTP status
 * alone would give a gRPC client only a generic error). Modules may replace the answer in their
 * {@link ProxyModule#onError} phase.
 */
final class ErrorResponder {
    private ErrorResponder() {}

    static Verdict.Respond respond(ProxyError error, boolean grpc) {
        if (grpc) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
            HttpHeaders trailers = new DefaultHttpHeaders()
                    .setInt("grpc-status", GrpcCalls.status(error))
                    .set("grpc-message", "river: " + error.description());
            return new Verdict.Respond(head, new Verdict.Body.Trailers(trailers));
        }
        HttpResponseStatus status = error.status();
        byte[] text = (status.code() + " " + status.reasonPhrase() + ": " + error.description() + "\n").getBytes(StandardCharsets.US_ASCII);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(text)));
    }
}
