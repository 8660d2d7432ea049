package river.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/** Writes an answer River gives itself (a module's verdict, a rejection, an error) to the client. */
final class LocalAnswer {
    private LocalAnswer() {}

    /** Sends head and body, ending the response; returns the body bytes sent. */
    static long send(Downstream downstream, Verdict.Respond respond, boolean headRequest) {
        HttpResponse head = respond.head();
        Verdict.Body body = respond.body();
        if (!head.headers().contains(HttpHeaderNames.DATE)) {
            // Every answer River originates carries a Date (RFC 9110 §6.6.1); proxied ones keep the origin's.
            head.headers().set(HttpHeaderNames.DATE, HttpDate.now());
        }
        if (headRequest || body instanceof Verdict.Body.Empty) {
            respond.discard();
            downstream.sendHead(head, false);
            downstream.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
            return 0;
        }
        downstream.sendHead(head, true);
        if (body instanceof Verdict.Body.FileRange file) {
            downstream.sendFile(file.file(), file.offset(), file.length());
            return file.length();
        } else if (body instanceof Verdict.Body.Trailers trailers) {
            LastHttpContent end = new DefaultLastHttpContent();
            end.trailingHeaders().set(trailers.trailers());
            downstream.sendBody(end);
            return 0;
        } else if (body instanceof Verdict.Body.Bytes bytes) {
            ByteBuf content = bytes.content();
            int length = content.readableBytes();
            downstream.sendBody(new DefaultLastHttpContent(content));
            return length;
        }
        throw new IllegalStateException("unhandled body kind " + body);
    }
}
