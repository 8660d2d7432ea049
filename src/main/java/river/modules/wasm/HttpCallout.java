package river.modules.wasm;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import river.upstream.ConnectionPool;
import river.upstream.Peer;
import river.upstream.UpstreamConnection;
import river.upstream.UpstreamListener;

/**
 * One {@code proxy_dispatch_http_call}: an HTTP/1.1 request to a configured upstream through the
 * service's connection pool, its response collected (body up to {@link #MAX_BODY_BYTES}) and handed,
 * once, on the requesting event loop, to {@code done} — or null on failure or timeout.
 */
final class HttpCallout implements UpstreamListener {
    static final int MAX_BODY_BYTES = 1 << 20;

    /** What came back: the head as pairs (with :status) and the body. */
    record Response(List<Map.Entry<String, String>> headers, byte[] body) {}

    private final EventLoop loop;
    private final Consumer<Response> done;
    private boolean finished;
    private HttpResponse head;
    private CompositeByteBuf body;
    private UpstreamConnection connection;

    private HttpCallout(EventLoop loop, Consumer<Response> done) {
        this.loop = loop;
        this.done = done;
    }

    /** Sends the request ({@code pairs} with :method, :path, :authority) and calls {@code done} on {@code loop} once. */
    static void send(ConnectionPool pool, Peer peer, EventLoop loop, List<Map.Entry<String, String>> pairs, byte[] requestBody,
            int timeoutMs, Consumer<Response> done) {
        HttpCallout call = new HttpCallout(loop, done);
        String method = "GET";
        String path = "/";
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.wrappedBuffer(requestBody));
        for (Map.Entry<String, String> e : pairs) {
            switch (e.getKey().toLowerCase(Locale.ROOT)) {
                case ":method" -> method = e.getValue();
                case ":path" -> path = e.getValue();
                case ":authority" -> request.headers().set(HttpHeaderNames.HOST, e.getValue());
                default -> {
                    if (!e.getKey().startsWith(":")) {
                        request.headers().add(e.getKey(), e.getValue());
                    }
                }
            }
        }
        request.setMethod(HttpMethod.valueOf(method));
        request.setUri(path);
        request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, requestBody.length);
        if (!request.headers().contains(HttpHeaderNames.HOST)) {
            request.headers().set(HttpHeaderNames.HOST, peer.label());
        }
        loop.schedule(() -> call.finish(null), timeoutMs, TimeUnit.MILLISECONDS);
        UpstreamConnection idle = pool.takeIdle(peer, loop, call);
        if (idle != null) {
            call.write(idle, request);
            return;
        }
        pool.connect(peer, loop, call, true).addListener(f -> {
            if (f.isSuccess()) {
                call.write((UpstreamConnection) f.getNow(), request);
            } else {
                request.release();
                call.finish(null);
            }
        });
    }

    private void write(UpstreamConnection c, FullHttpRequest request) {
        loop.execute(() -> {
            connection = c;
            if (finished) {
                request.release();
                c.discard();
                return;
            }
            c.channel().writeAndFlush(request);
        });
    }

    @Override
    public void onUpstreamMessage(UpstreamConnection c, HttpObject message) {
        loop.execute(() -> receive(c, message));
    }

    private void receive(UpstreamConnection c, HttpObject message) {
        try {
            if (finished) {
                return;
            }
            if (message instanceof HttpResponse response) {
                if (response.status().code() < 200) {
                    return; // an interim response
                }
                head = response;
                body = Unpooled.compositeBuffer();
            }
            if (message instanceof HttpContent content && body != null) {
                if (body.readableBytes() + content.content().readableBytes() > MAX_BODY_BYTES) {
                    c.discard();
                    finish(null);
                    return;
                }
                body.addComponent(true, content.content().retain());
                if (content instanceof LastHttpContent) {
                    boolean reusable = UpstreamConnection.reusableAfter(head, true);
                    List<Map.Entry<String, String>> pairs = new ArrayList<>();
                    pairs.add(Map.entry(":status", Integer.toString(head.status().code())));
                    for (Map.Entry<String, String> e : head.headers()) {
                        pairs.add(Map.entry(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
                    }
                    Response r = new Response(pairs, ByteBufUtil.getBytes(body));
                    connection = null;
                    if (reusable) {
                        c.release();
                    } else {
                        c.discard();
                    }
                    finish(r);
                }
            }
        } finally {
            io.netty.util.ReferenceCountUtil.release(message);
        }
    }

    @Override
    public void onUpstreamFailure(UpstreamConnection c, Throwable cause) {
        loop.execute(() -> finish(null));
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection c, boolean writable) {}

    /** Hands the outcome over once; a connection still in use (a timeout, a failure) is closed. */
    private void finish(Response r) {
        if (finished) {
            return;
        }
        finished = true;
        if (body != null) {
            body.release();
            body = null;
        }
        if (connection != null) {
            connection.discard();
            connection = null;
        }
        done.accept(r);
    }
}
