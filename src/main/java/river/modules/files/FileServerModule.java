package river.modules.files;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's {@code file-server}: answers GET and HEAD from the files below a base directory. The path
 * is decoded once and checked segment by segment, and the file's real path (symlinks resolved) must
 * still lie below the base: anything else is 404. File lookups run on a small blocking pool, never on
 * an event loop; the bytes go out zero-copy.
 */
public final class FileServerModule implements ProxyModule {
    /** The plain-text bodies of the answers other than a file, built once rather than per request. */
    private static final java.util.Map<HttpResponseStatus, byte[]> STATUS_BODIES = java.util.Map.of(
            HttpResponseStatus.MOVED_PERMANENTLY, statusBody(HttpResponseStatus.MOVED_PERMANENTLY),
            HttpResponseStatus.NOT_FOUND, statusBody(HttpResponseStatus.NOT_FOUND),
            HttpResponseStatus.METHOD_NOT_ALLOWED, statusBody(HttpResponseStatus.METHOD_NOT_ALLOWED),
            HttpResponseStatus.SERVICE_UNAVAILABLE, statusBody(HttpResponseStatus.SERVICE_UNAVAILABLE));

    private final Path base;
    private final Executor blocking;

    /**
     * @param basePath the directory to serve
     * @param blocking runs file-system calls off the event loops; may reject when saturated
     */
    public FileServerModule(Path basePath, Executor blocking) throws IOException {
        this.base = basePath.toRealPath();
        this.blocking = blocking;
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        HttpMethod method = ctx.request().method();
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            HttpResponse head = text(HttpResponseStatus.METHOD_NOT_ALLOWED);
            head.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            return done(respond(head));
        }
        String relative = RequestPath.toRelative(ctx.path());
        if (relative == null) {
            return done(respond(text(HttpResponseStatus.NOT_FOUND)));
        }
        boolean wantsDirectory = ctx.path().endsWith("/");
        try {
            return CompletableFuture.supplyAsync(() -> lookup(relative, wantsDirectory, ctx.path()), blocking);
        } catch (RejectedExecutionException e) {
            return done(respond(text(HttpResponseStatus.SERVICE_UNAVAILABLE)));
        }
    }

    private Verdict lookup(String relative, boolean wantsDirectory, String requestPath) {
        Path candidate = base.resolve(relative).normalize();
        if (!candidate.startsWith(base)) {
            return respond(text(HttpResponseStatus.NOT_FOUND));
        }
        try {
            if (Files.isDirectory(candidate)) {
                if (!wantsDirectory) {
                    HttpResponse redirect = text(HttpResponseStatus.MOVED_PERMANENTLY);
                    redirect.headers().set(HttpHeaderNames.LOCATION, requestPath + "/");
                    return respond(redirect);
                }
                candidate = candidate.resolve("index.html");
            }
            Path real = candidate.toRealPath();
            if (!real.startsWith(base) || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) || !Files.isReadable(real)) {
                return respond(text(HttpResponseStatus.NOT_FOUND));
            }
            FileChannel file = FileChannel.open(real, StandardOpenOption.READ);
            long size = file.size();
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, MediaTypes.of(real.getFileName().toString()))
                    .set(HttpHeaderNames.CONTENT_LENGTH, size);
            return new Verdict.Respond(head, new Verdict.Body.FileRange(file, 0, size));
        } catch (IOException e) {
            return respond(text(HttpResponseStatus.NOT_FOUND));
        }
    }

    private static CompletionStage<Verdict> done(Verdict v) {
        return CompletableFuture.completedFuture(v);
    }

    private static HttpResponse text(HttpResponseStatus status) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
        return head;
    }

    private static byte[] statusBody(HttpResponseStatus status) {
        return (status.code() + " " + status.reasonPhrase() + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static Verdict respond(HttpResponse head) {
        byte[] body = STATUS_BODIES.get(head.status());
        if (body == null) {
            body = statusBody(head.status());
        }
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        // Wrapping shares the constant array: the buffer is only ever read, and releasing it frees nothing.
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(body)));
    }
}
