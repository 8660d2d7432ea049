package river.modules.files;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
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
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import river.proxy.HttpDate;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River's {@code file-server}: answers GET and HEAD from the files below a base directory. The path
 * is decoded once and checked segment by segment, and the file's real path (symlinks resolved) must
 * still lie below the base: anything else is 404. File lookups run on a small blocking pool, never on
 * an event loop; the bytes go out zero-copy.
 *
 * <p>HTTP semantics (RFC 9110): {@code Last-Modified}, a strong {@code ETag}
 * {@code "<size hex>-<mtime nanoseconds hex>"}, the preconditions of §13.2.2 in their order
 * ({@code If-Match}/{@code If-Unmodified-Since} → 412, {@code If-None-Match}/{@code If-Modified-Since}
 * → 304, {@code If-None-Match} winning over {@code If-Modified-Since}), byte ranges with
 * {@code If-Range} (see {@link ByteRanges}), {@code OPTIONS} → 204 with {@code Allow}, other methods
 * → 405 with the same {@code Allow}.
 */
public final class FileServerModule implements ProxyModule {
    static final String ALLOW = "GET, HEAD, OPTIONS";
    private static final io.netty.util.AsciiString X_CONTENT_TYPE_OPTIONS = io.netty.util.AsciiString.cached("x-content-type-options");
    private static final io.netty.util.AsciiString NOSNIFF = io.netty.util.AsciiString.cached("nosniff");
    /** Multipart bodies are assembled in memory; a request asking for more than this gets the whole file. */
    static final long MAX_MULTIPART_BYTES = 1024 * 1024;

    /** The plain-text bodies of the answers other than a file, built once rather than per request. */
    private static final java.util.Map<HttpResponseStatus, byte[]> STATUS_BODIES = java.util.Map.of(
            HttpResponseStatus.MOVED_PERMANENTLY, statusBody(HttpResponseStatus.MOVED_PERMANENTLY),
            HttpResponseStatus.NOT_FOUND, statusBody(HttpResponseStatus.NOT_FOUND),
            HttpResponseStatus.METHOD_NOT_ALLOWED, statusBody(HttpResponseStatus.METHOD_NOT_ALLOWED),
            HttpResponseStatus.PRECONDITION_FAILED, statusBody(HttpResponseStatus.PRECONDITION_FAILED),
            HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, statusBody(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
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
        if (method.equals(HttpMethod.OPTIONS)) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
            head.headers().set(HttpHeaderNames.ALLOW, ALLOW);
            return done(new Verdict.Respond(head, new Verdict.Body.Empty()));
        }
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            HttpResponse head = text(HttpResponseStatus.METHOD_NOT_ALLOWED);
            head.headers().set(HttpHeaderNames.ALLOW, ALLOW);
            return done(respond(head));
        }
        String relative = RequestPath.toRelative(ctx.path());
        if (relative == null) {
            return done(respond(text(HttpResponseStatus.NOT_FOUND)));
        }
        boolean wantsDirectory = ctx.path().endsWith("/");
        HttpHeaders request = ctx.request().headers();
        try {
            return CompletableFuture.supplyAsync(() -> lookup(relative, wantsDirectory, ctx.path(), request), blocking);
        } catch (RejectedExecutionException e) {
            return done(respond(text(HttpResponseStatus.SERVICE_UNAVAILABLE)));
        }
    }

    private Verdict lookup(String relative, boolean wantsDirectory, String requestPath, HttpHeaders request) {
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
            try {
                return serve(file, real, request);
            } catch (IOException | RuntimeException e) {
                file.close();
                throw e;
            }
        } catch (IOException e) {
            return respond(text(HttpResponseStatus.NOT_FOUND));
        }
    }

    /** Answers with the open file (which the verdict then owns) or closes it and answers without. */
    private Verdict serve(FileChannel file, Path real, HttpHeaders request) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
        long size = file.size();
        long mtimeNanos = attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        long mtimeSecond = attrs.lastModifiedTime().to(TimeUnit.SECONDS);
        String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(mtimeNanos) + "\"";
        String lastModified = HttpDate.format(mtimeSecond);
        String type = MediaTypes.of(real.getFileName().toString());

        HttpResponseStatus precondition = preconditions(request, etag, mtimeSecond);
        if (precondition != null) {
            file.close();
            HttpResponse head = precondition == HttpResponseStatus.NOT_MODIFIED
                    ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, precondition) : text(precondition);
            validators(head, etag, lastModified);
            return precondition == HttpResponseStatus.NOT_MODIFIED
                    ? new Verdict.Respond(head, new Verdict.Body.Empty()) : respond(head);
        }

        ByteRanges.Outcome ranges = ByteRanges.resolve(request.get(HttpHeaderNames.RANGE), size);
        String ifRange = request.get(HttpHeaderNames.IF_RANGE);
        if (ifRange != null && !(ranges instanceof ByteRanges.Whole) && !ifRangeHolds(ifRange, etag, mtimeSecond)) {
            ranges = new ByteRanges.Whole();
        }
        if (ranges instanceof ByteRanges.Unsatisfiable) {
            file.close();
            HttpResponse head = text(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
            validators(head, etag, lastModified);
            head.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
            return respond(head);
        }
        if (ranges instanceof ByteRanges.Partial partial && partial.ranges().size() == 1) {
            ByteRanges.Range r = partial.ranges().get(0);
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT);
            validators(head, etag, lastModified);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, type)
                    .set(HttpHeaderNames.CONTENT_RANGE, "bytes " + r.first() + "-" + r.last() + "/" + size)
                    .set(HttpHeaderNames.CONTENT_LENGTH, r.length());
            return new Verdict.Respond(head, new Verdict.Body.FileRange(file, r.first(), r.length()));
        }
        if (ranges instanceof ByteRanges.Partial partial) {
            long total = 0;
            for (ByteRanges.Range r : partial.ranges()) {
                total += r.length();
            }
            if (total <= MAX_MULTIPART_BYTES) {
                return multipart(file, partial, size, type, etag, lastModified);
            }
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        validators(head, etag, lastModified);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CONTENT_LENGTH, size);
        return new Verdict.Respond(head, new Verdict.Body.FileRange(file, 0, size));
    }

    /** RFC 9110 §13.2.2 steps 1 to 4: the status that ends the request (412, 304), or null to go on. */
    static HttpResponseStatus preconditions(HttpHeaders request, String etag, long mtimeSecond) {
        String ifMatch = request.get(HttpHeaderNames.IF_MATCH);
        if (ifMatch != null) {
            if (!EntityTags.matches(ifMatch, etag, false)) {
                return HttpResponseStatus.PRECONDITION_FAILED;
            }
        } else {
            String ifUnmodifiedSince = request.get(HttpHeaderNames.IF_UNMODIFIED_SINCE);
            if (ifUnmodifiedSince != null) {
                long date = HttpDate.parse(ifUnmodifiedSince);
                if (date != Long.MIN_VALUE && mtimeSecond > date) {
                    return HttpResponseStatus.PRECONDITION_FAILED;
                }
            }
        }
        String ifNoneMatch = request.get(HttpHeaderNames.IF_NONE_MATCH);
        if (ifNoneMatch != null) {
            return EntityTags.matches(ifNoneMatch, etag, true) ? HttpResponseStatus.NOT_MODIFIED : null;
        }
        String ifModifiedSince = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ifModifiedSince != null) {
            long date = HttpDate.parse(ifModifiedSince);
            if (date != Long.MIN_VALUE && mtimeSecond <= date) {
                return HttpResponseStatus.NOT_MODIFIED;
            }
        }
        return null;
    }

    /** If-Range (RFC 9110 §13.1.5): a strong ETag match, or a date equal to Last-Modified. */
    private static boolean ifRangeHolds(String ifRange, String etag, long mtimeSecond) {
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return EntityTags.matches(v, etag, false);
        }
        long date = HttpDate.parse(v);
        return date != Long.MIN_VALUE && date == mtimeSecond;
    }

    private static Verdict multipart(FileChannel file, ByteRanges.Partial partial, long size, String type,
            String etag, String lastModified) throws IOException {
        String boundary = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE)
                + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        ByteBuf body = Unpooled.buffer();
        try (file) {
            for (ByteRanges.Range r : partial.ranges()) {
                String partHead = "--" + boundary + "\r\nContent-Type: " + type + "\r\nContent-Range: bytes "
                        + r.first() + "-" + r.last() + "/" + size + "\r\n\r\n";
                body.writeCharSequence(partHead, StandardCharsets.US_ASCII);
                long position = r.first();
                long remaining = r.length();
                while (remaining > 0) {
                    int read = body.writeBytes(file, position, (int) remaining);
                    if (read < 0) {
                        throw new IOException("file shrank while being read");
                    }
                    position += read;
                    remaining -= read;
                }
                body.writeCharSequence("\r\n", StandardCharsets.US_ASCII);
            }
            body.writeCharSequence("--" + boundary + "--\r\n", StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            body.release();
            throw e;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT);
        validators(head, etag, lastModified);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return new Verdict.Respond(head, new Verdict.Body.Bytes(body));
    }

    private static void validators(HttpResponse head, String etag, String lastModified) {
        head.headers()
                .set(HttpHeaderNames.DATE, HttpDate.now())
                .set(HttpHeaderNames.ETAG, etag)
                .set(HttpHeaderNames.LAST_MODIFIED, lastModified)
                .set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES)
                .set(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
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
