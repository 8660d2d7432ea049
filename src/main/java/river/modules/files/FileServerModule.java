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
import java.nio.file.AccessDeniedException;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import river.config.ServiceHandler;
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
    static final io.netty.util.AsciiString X_CONTENT_TYPE_OPTIONS = io.netty.util.AsciiString.cached("x-content-type-options");
    static final io.netty.util.AsciiString NOSNIFF = io.netty.util.AsciiString.cached("nosniff");
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

    /** Error pages larger than this are refused at start: they are held in memory. */
    static final long MAX_ERROR_PAGE_BYTES = 1024 * 1024;

    private final Path base;
    private final Executor blocking;
    private final List<String> indexFiles;
    private final boolean listing;
    private final boolean serveDotfiles;
    private final boolean precompressed;
    private final Map<HttpResponseStatus, ErrorPage> errorPages;
    private final List<CacheRule> cacheRules;
    /** Null when {@code open-file-cache} is off. */
    private final OpenFileCache openFiles;

    private record ErrorPage(byte[] body, String type) {}

    private record CacheRule(Pattern pattern, String value) {}

    /**
     * @param basePath the directory to serve, with the defaults of {@link ServiceHandler.FileServer#FileServer(Path)}
     * @param blocking runs file-system calls off the event loops; may reject when saturated
     */
    public FileServerModule(Path basePath, Executor blocking) throws IOException {
        this(new ServiceHandler.FileServer(basePath), blocking);
    }

    /**
     * @param config what to serve and how
     * @param blocking runs file-system calls off the event loops; may reject when saturated
     */
    public FileServerModule(ServiceHandler.FileServer config, Executor blocking) throws IOException {
        this(config, blocking, System::nanoTime);
    }

    /** With the clock of the open-file cache's {@code valid-ms}. */
    FileServerModule(ServiceHandler.FileServer config, Executor blocking, java.util.function.LongSupplier nanoClock) throws IOException {
        ServiceHandler.FileServer.OpenFiles cache = config.openFileCache();
        this.openFiles = cache == null ? null : new OpenFileCache(cache.max(), cache.validMs(), nanoClock);
        this.base = config.basePath().toRealPath();
        this.blocking = blocking;
        this.indexFiles = config.indexFiles();
        this.listing = config.directoryListing();
        this.serveDotfiles = config.serveDotfiles();
        this.precompressed = config.precompressed();
        Map<HttpResponseStatus, ErrorPage> pages = new HashMap<>();
        for (Map.Entry<Integer, Path> e : config.errorPages().entrySet()) {
            if (Files.size(e.getValue()) > MAX_ERROR_PAGE_BYTES) {
                throw new IOException("error-page " + e.getKey() + " " + e.getValue() + " is larger than " + MAX_ERROR_PAGE_BYTES + " bytes");
            }
            pages.put(HttpResponseStatus.valueOf(e.getKey()),
                    new ErrorPage(Files.readAllBytes(e.getValue()), MediaTypes.of(e.getValue().getFileName().toString())));
        }
        this.errorPages = Map.copyOf(pages);
        List<CacheRule> rules = new ArrayList<>();
        for (ServiceHandler.FileServer.CacheRule r : config.cacheControl()) {
            rules.add(new CacheRule(glob(r.pattern()), r.value()));
        }
        this.cacheRules = List.copyOf(rules);
    }

    /** A path glob as a regex: {@code **} any characters, {@code *} any but {@code /}, the rest literal. */
    static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^/]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
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
        if (relative == null || (!serveDotfiles && hidden(relative))) {
            return done(error(HttpResponseStatus.NOT_FOUND));
        }
        boolean wantsDirectory = ctx.path().endsWith("/");
        HttpHeaders request = ctx.request().headers();
        String uri = ctx.request().uri();
        int q = uri.indexOf('?');
        String query = q < 0 ? "" : uri.substring(q);
        if (openFiles != null) {
            Verdict hit = cached(relative, wantsDirectory, request);
            if (hit != null) {
                return done(hit);
            }
        }
        try {
            return CompletableFuture.supplyAsync(() -> lookup(relative, wantsDirectory, ctx.path(), query, request), blocking);
        } catch (RejectedExecutionException e) {
            return done(respond(text(HttpResponseStatus.SERVICE_UNAVAILABLE)));
        }
    }

    /** Whether a segment of the path starts with a dot ({@code .well-known} excepted, RFC 8615). */
    static boolean hidden(String relative) {
        // Scanned in place: this runs for every file request, so no array of segments is made.
        for (int start = 0; start < relative.length(); start = relative.indexOf('/', start) + 1) {
            int end = relative.indexOf('/', start);
            int length = (end < 0 ? relative.length() : end) - start;
            if (length > 0 && relative.charAt(start) == '.' && !(length == 11 && relative.startsWith(".well-known", start))) {
                return true;
            }
            if (end < 0) {
                break;
            }
        }
        return false;
    }

    private Verdict lookup(String relative, boolean wantsDirectory, String requestPath, String query, HttpHeaders request) {
        Path candidate = base.resolve(relative).normalize();
        if (!candidate.startsWith(base)) {
            return error(HttpResponseStatus.NOT_FOUND);
        }
        try {
            BasicFileAttributes attrs = unlinkedAttributes(candidate);
            if (attrs != null ? attrs.isDirectory() : Files.isDirectory(candidate)) {
                Path realDir = attrs != null ? candidate : candidate.toRealPath();
                if (!realDir.startsWith(base)) {
                    return error(HttpResponseStatus.NOT_FOUND);
                }
                if (!wantsDirectory) {
                    // Only GET and HEAD get here (other methods are 405), so the permanent redirect is 301.
                    HttpResponse redirect = text(HttpResponseStatus.MOVED_PERMANENTLY);
                    redirect.headers().set(HttpHeaderNames.LOCATION, requestPath + "/" + query);
                    return respond(redirect);
                }
                Path index = null;
                for (String name : indexFiles) {
                    Path p = candidate.resolve(name);
                    if (Files.isRegularFile(p)) {
                        index = p;
                        break;
                    }
                }
                if (index == null) {
                    return listing ? DirectoryListing.of(realDir, requestPath, serveDotfiles) : error(HttpResponseStatus.FORBIDDEN);
                }
                candidate = index;
                attrs = unlinkedAttributes(candidate);
            }
            Path real = candidate;
            if (attrs == null) {
                real = candidate.toRealPath();
                if (!real.startsWith(base)) {
                    return error(HttpResponseStatus.NOT_FOUND);
                }
                attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            }
            if (!attrs.isRegularFile()) {
                return error(HttpResponseStatus.NOT_FOUND);
            }
            if (precompressed && !Files.isReadable(real)) {
                // A readable variant must not stand in for an original that may not be read.
                return error(HttpResponseStatus.FORBIDDEN);
            }
            String type = MediaTypes.of(real.getFileName().toString());
            Precompressed.Variant variant = precompressed
                    ? Precompressed.choose(real, base, request.get(HttpHeaderNames.ACCEPT_ENCODING)) : null;
            Path sent = variant == null ? real : variant.file();
            FileChannel file;
            try {
                // real has no link in it: a link put in its place since is not followed.
                file = FileChannel.open(sent, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            } catch (AccessDeniedException e) {
                return error(HttpResponseStatus.FORBIDDEN);
            }
            try {
                BasicFileAttributes sentAttrs = variant == null ? attrs : Files.readAttributes(sent, BasicFileAttributes.class);
                String encoding = variant == null ? null : variant.encoding();
                String cacheControl = cacheControl("/" + relative);
                if (openFiles != null) {
                    OpenFileCache.Entry entry = new OpenFileCache.Entry(file, file.size(), sentAttrs, type, encoding, cacheControl, openFiles.now());
                    FileChannel lease = entry.lease();
                    openFiles.put(cacheKey(relative, wantsDirectory, request), entry);
                    file = lease;
                }
                return answer(file, sentAttrs, type, encoding, cacheControl, request);
            } catch (IOException | RuntimeException e) {
                file.close();
                throw e;
            }
        } catch (IOException e) {
            return error(HttpResponseStatus.NOT_FOUND);
        }
    }

    /** The open-file cache's answer on the event loop, or null: look the file up in the pool. */
    private Verdict cached(String relative, boolean wantsDirectory, HttpHeaders request) {
        String range = request.get(HttpHeaderNames.RANGE);
        if (range != null && range.indexOf(',') >= 0) {
            return null; // several ranges are read into memory: in the pool
        }
        OpenFileCache.Entry entry = openFiles.get(cacheKey(relative, wantsDirectory, request));
        FileChannel lease = entry == null ? null : entry.lease();
        if (lease == null) {
            return null;
        }
        try {
            return answer(lease, entry.attrs, entry.type, entry.encoding, entry.cacheControl, request);
        } catch (IOException | RuntimeException e) {
            try {
                lease.close();
            } catch (IOException ignored) {
                // Closing a lease only releases it.
            }
            return null;
        }
    }

    /** What a lookup's answer depends on: the path, the trailing slash, and the variants' Accept-Encoding. */
    private String cacheKey(String relative, boolean wantsDirectory, HttpHeaders request) {
        String key = wantsDirectory ? relative + "/" : relative;
        if (precompressed) {
            String accept = request.get(HttpHeaderNames.ACCEPT_ENCODING);
            key = key + "\n" + (accept == null ? "" : accept);
        }
        return key;
    }

    /** Answers with the file (sent, or closed) and the variant's headers. */
    private Verdict answer(FileChannel file, BasicFileAttributes attrs, String type, String encoding, String cacheControl,
            HttpHeaders request) throws IOException {
        Verdict answer = serve(file, attrs, type, encoding == null ? "" : "-" + encoding, request, cacheControl);
        if (precompressed && answer instanceof Verdict.Respond r) {
            r.head().headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
            if (encoding != null && r.head().status().code() != 304 && r.head().status().code() != 412) {
                r.head().headers().set(HttpHeaderNames.CONTENT_ENCODING, encoding);
            }
        }
        return answer;
    }

    /**
     * The attributes of a path below the base when no segment of it below the base is a symbolic link, so
     * that it is its own real path (the base is real): one lstat per segment, where resolving the real
     * path reads every link of the whole path and stats it again. Null when a segment is a link: the
     * caller then resolves the real path.
     *
     * @throws IOException when a segment does not exist (or is not a directory)
     */
    private BasicFileAttributes unlinkedAttributes(Path candidate) throws IOException {
        if (candidate.equals(base)) {
            return Files.readAttributes(base, BasicFileAttributes.class);
        }
        BasicFileAttributes attrs = null;
        for (Path p = candidate; !p.equals(base); p = p.getParent()) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                return null;
            }
            if (attrs == null) {
                attrs = a;
            }
        }
        return attrs;
    }

    /** The Cache-Control of the first rule matching the request's decoded path, or null. */
    private String cacheControl(String path) {
        for (CacheRule rule : cacheRules) {
            if (rule.pattern().matcher(path).matches()) {
                return rule.value();
            }
        }
        return null;
    }

    /** A 403 or 404, with the configured page when there is one. */
    private Verdict error(HttpResponseStatus status) {
        ErrorPage page = errorPages.get(status);
        if (page == null) {
            return respond(text(status));
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, page.type())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, page.body().length)
                .set(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(page.body())));
    }

    /** Answers with the open file (which the verdict then owns) or closes it and answers without. */
    private Verdict serve(FileChannel file, BasicFileAttributes attrs, String type, String etagSuffix, HttpHeaders request,
            String cacheControl) throws IOException {
        long size = file.size();
        long mtimeNanos = attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        long mtimeSecond = attrs.lastModifiedTime().to(TimeUnit.SECONDS);
        String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(mtimeNanos) + etagSuffix + "\"";
        String lastModified = HttpDate.format(mtimeSecond);

        HttpResponseStatus precondition = preconditions(request, etag, mtimeSecond);
        if (precondition != null) {
            file.close();
            HttpResponse head = precondition == HttpResponseStatus.NOT_MODIFIED
                    ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, precondition) : text(precondition);
            validators(head, etag, lastModified);
            if (cacheControl != null && precondition == HttpResponseStatus.NOT_MODIFIED) {
                head.headers().set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
            }
            return precondition == HttpResponseStatus.NOT_MODIFIED
                    ? new Verdict.Respond(head, new Verdict.Body.Empty()) : respond(head);
        }

        Verdict answer = ranged(file, size, request, type, etag, lastModified, mtimeNanos);
        if (cacheControl != null && answer instanceof Verdict.Respond r && r.head().status().code() / 100 == 2) {
            r.head().headers().set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
        }
        return answer;
    }

    /** 200, 206 or 416 for a file whose preconditions held. */
    private static Verdict ranged(FileChannel file, long size, HttpHeaders request, String type, String etag,
            String lastModified, long mtimeNanos) throws IOException {
        ByteRanges.Outcome ranges = ByteRanges.resolve(request.get(HttpHeaderNames.RANGE), size);
        String ifRange = request.get(HttpHeaderNames.IF_RANGE);
        if (ifRange != null && !(ranges instanceof ByteRanges.Whole) && !ifRangeHolds(ifRange, etag, mtimeNanos, System.currentTimeMillis())) {
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

    /**
     * If-Range (RFC 9110 §13.1.5): a strong ETag match, or a date that is a strong validator: equal to
     * the file's Last-Modified, with the modification at least one second before now (§8.8.2.2: a file
     * changed within the current second could change again in the same second under the same date).
     * Anything else, a weak ETag or an unparsable date included, does not hold: the whole file is sent.
     */
    static boolean ifRangeHolds(String ifRange, String etag, long mtimeNanos, long nowMillis) {
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return EntityTags.matches(v, etag, false);
        }
        long date = HttpDate.parse(v, Math.floorDiv(nowMillis, 1000));
        return date != Long.MIN_VALUE && date == Math.floorDiv(mtimeNanos, 1_000_000_000L)
                && mtimeNanos <= nowMillis * 1_000_000L - 1_000_000_000L;
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

    static HttpResponse text(HttpResponseStatus status) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
        return head;
    }

    private static byte[] statusBody(HttpResponseStatus status) {
        return (status.code() + " " + status.reasonPhrase() + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    static Verdict respond(HttpResponse head) {
        byte[] body = STATUS_BODIES.get(head.status());
        if (body == null) {
            body = statusBody(head.status());
        }
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        // Wrapping shares the constant array: the buffer is only ever read, and releasing it frees nothing.
        return new Verdict.Respond(head, new Verdict.Body.Bytes(Unpooled.wrappedBuffer(body)));
    }
}
