package river.modules.files;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import river.proxy.HttpDate;
import river.proxy.Verdict;

/**
 * The HTML listing of a directory without an index file ({@code directory-listing true}): names sorted
 * (by their UTF-16 code units), directories with a trailing slash, every name HTML-escaped in the text
 * and percent-encoded in the link, dotfiles left out unless served. At most {@link #MAX_ENTRIES} names.
 */
final class DirectoryListing {
    static final int MAX_ENTRIES = 10_000;

    private DirectoryListing() {}

    static Verdict of(Path dir, String requestPath, boolean showDotfiles) throws IOException {
        List<String> names = new ArrayList<>();
        boolean truncated = false;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!showDotfiles && name.startsWith(".")) {
                    continue;
                }
                if (names.size() == MAX_ENTRIES) {
                    truncated = true;
                    break;
                }
                names.add(Files.isDirectory(entry) ? name + "/" : name);
            }
        }
        names.sort(null);
        StringBuilder html = new StringBuilder(256 + names.size() * 64);
        String title = escape(requestPath);
        html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ").append(title)
                .append("</title></head>\n<body><h1>Index of ").append(title).append("</h1>\n<ul>\n");
        if (!requestPath.equals("/")) {
            html.append("<li><a href=\"../\">../</a></li>\n");
        }
        for (String name : names) {
            html.append("<li><a href=\"").append(escape(encode(name))).append("\">").append(escape(name)).append("</a></li>\n");
        }
        html.append("</ul>\n");
        if (truncated) {
            html.append("<p>Only the first ").append(MAX_ENTRIES).append(" entries are listed.</p>\n");
        }
        html.append("</body></html>\n");
        byte[] bytes = html.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf body = Unpooled.wrappedBuffer(bytes);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.DATE, HttpDate.now())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(FileServerModule.X_CONTENT_TYPE_OPTIONS, FileServerModule.NOSNIFF);
        return new Verdict.Respond(head, new Verdict.Body.Bytes(body));
    }

    /** HTML text and attribute escaping. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Percent-encodes a name for a relative link: unreserved characters and a trailing slash stay. */
    static String encode(String name) {
        StringBuilder out = new StringBuilder(name.length() + 16);
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }
}
