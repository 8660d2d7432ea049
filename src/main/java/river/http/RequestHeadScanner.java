package river.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import river.headers.CompactHeaders;

/**
 * The fast path of {@link StrictRequestDecoder}: decodes, in two passes over the bytes, a request head
 * of the plain shape nearly every client sends, and declines everything else so that Netty's parser
 * decides it exactly as before. Plain means: a known method, one space, a target of visible ASCII, one
 * space, {@code HTTP/1.1} or {@code HTTP/1.0}, CRLF; then fields of a token name, a colon, optional
 * blanks and a value of visible bytes, blanks and obs-text, each ended by CRLF; no body (neither
 * Content-Length nor Transfer-Encoding); within the line and header limits. Each of those heads is one
 * Netty accepts and decodes to the same request, which is what keeps River exactly as strict.
 *
 * <p>The first pass finds the line ends with {@link ByteBuf#indexOf} (a word at a time); the head is
 * then copied once into a byte array, which the fields' names and values view as {@link AsciiString}s:
 * no copy per field and no String per field, and the common names are shared constants.
 */
final class RequestHeadScanner {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    /** tchar (RFC 9110 §5.6.2). */
    private static final boolean[] TOKEN = new boolean[256];
    /** Bytes a field value may hold once leading blanks are skipped: VCHAR, obs-text, SP, HTAB. */
    private static final boolean[] VALUE = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
        for (int c = 0x21; c < 0x7F; c++) {
            VALUE[c] = true;
        }
        for (int c = 0x80; c <= 0xFF; c++) {
            VALUE[c] = true;
        }
        VALUE[' '] = true;
        VALUE['\t'] = true;
    }

    /** Field names as browsers, curl and other proxies spell them, by length: shared, never copied. */
    private static final AsciiString[][] NAMES = names(
            "Host", "host", "User-Agent", "user-agent", "Accept", "accept", "Accept-Language", "accept-language",
            "Accept-Encoding", "accept-encoding", "Connection", "connection", "Upgrade-Insecure-Requests",
            "upgrade-insecure-requests", "Sec-Fetch-Dest", "sec-fetch-dest", "Sec-Fetch-Mode", "sec-fetch-mode",
            "Sec-Fetch-Site", "sec-fetch-site", "Sec-Fetch-User", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile",
            "sec-ch-ua-platform", "Priority", "priority", "Cookie", "cookie", "Referer", "referer", "Cache-Control",
            "cache-control", "Pragma", "pragma", "Origin", "origin", "DNT", "dnt", "If-None-Match", "if-none-match",
            "If-Modified-Since", "if-modified-since", "Authorization", "authorization", "Content-Type", "content-type",
            "X-Forwarded-For", "x-forwarded-for", "X-Forwarded-Proto", "x-forwarded-proto", "X-Request-Id",
            "x-request-id", "Keep-Alive", "keep-alive", "Range", "range", "TE", "te", "Upgrade", "upgrade");

    private RequestHeadScanner() {}

    private static AsciiString[][] names(String... names) {
        int longest = 0;
        for (String n : names) {
            longest = Math.max(longest, n.length());
        }
        AsciiString[][] byLength = new AsciiString[longest + 1][0];
        for (String n : names) {
            AsciiString[] same = byLength[n.length()];
            same = java.util.Arrays.copyOf(same, same.length + 1);
            same[same.length - 1] = AsciiString.cached(n);
            byLength[n.length()] = same;
        }
        return byLength;
    }

    /**
     * The request whose plain, bodiless head starts at the reader index, which then moves past it; or
     * null, with the buffer untouched, when the head is incomplete or anything about it is not plain.
     */
    static HttpRequest scan(ByteBuf in, int maxLineBytes, int maxHeaderBytes) {
        int start = in.readerIndex();
        int limit = in.writerIndex();
        // Pass 1: line ends, within the limits as Netty counts them (line content without its CRLF).
        int lf = in.indexOf(start, Math.min(limit, start + maxLineBytes + 2), LF);
        if (lf <= start || in.getByte(lf - 1) != CR) {
            return null;
        }
        int lineEnd = lf - 1 - start;
        if (lineEnd > maxLineBytes) {
            return null;
        }
        int headerBytes = 0;
        int fields = 0;
        int at = lf + 1;
        while (true) {
            int budget = maxHeaderBytes - headerBytes;
            lf = in.indexOf(at, Math.min(limit, at + budget + 2), LF);
            if (lf <= at || in.getByte(lf - 1) != CR) {
                return null;
            }
            int length = lf - 1 - at;
            if (length == 0) {
                break;
            }
            headerBytes += length;
            if (headerBytes > maxHeaderBytes) {
                return null;
            }
            fields++;
            at = lf + 1;
        }
        int end = lf + 1;
        byte[] head = new byte[end - start];
        in.getBytes(start, head);
        HttpRequest request = parse(head, lineEnd, fields);
        if (request != null) {
            in.readerIndex(end);
        }
        return request;
    }

    /** Pass 2, over the copy: the request line ends at {@code lineEnd} (its CR); every line ends in CRLF. */
    private static HttpRequest parse(byte[] head, int lineEnd, int fields) {
        int sp = 0;
        while (sp < lineEnd && head[sp] != ' ') {
            sp++;
        }
        HttpMethod method = method(head, sp);
        if (method == null) {
            return null;
        }
        int targetStart = sp + 1;
        int targetEnd = targetStart;
        while (targetEnd < lineEnd && head[targetEnd] > ' ' && head[targetEnd] < 0x7F) {
            targetEnd++;
        }
        if (targetEnd == targetStart || lineEnd - targetEnd != 9 || head[targetEnd] != ' ') {
            return null;
        }
        HttpVersion version = version(head, targetEnd + 1);
        if (version == null) {
            return null;
        }
        CompactHeaders headers = CompactHeaders.decoded(fields);
        int at = lineEnd + 2;
        // The empty line that ends the head is its last two bytes (pass 1): a CR anywhere before is bare.
        int headEnd = head.length - 2;
        while (at < headEnd) {
            int nameStart = at;
            while (TOKEN[head[at] & 0xFF]) {
                at++;
            }
            int nameEnd = at;
            if (nameEnd == nameStart || head[at] != ':') {
                return null;
            }
            at++;
            while (head[at] == ' ' || head[at] == '\t') {
                at++;
            }
            int valueStart = at;
            at = endOfValue(head, at, headEnd);
            if (head[at] != CR || head[at + 1] != LF) {
                return null;
            }
            int valueEnd = at;
            while (valueEnd > valueStart && (head[valueEnd - 1] == ' ' || head[valueEnd - 1] == '\t')) {
                valueEnd--;
            }
            at += 2;
            int nameLength = nameEnd - nameStart;
            if (framesABody(head, nameStart, nameLength)) {
                return null;
            }
            AsciiString value = valueEnd == valueStart ? AsciiString.EMPTY_STRING
                    : new AsciiString(head, valueStart, valueEnd - valueStart, false);
            headers.addChecked(name(head, nameStart, nameLength), value);
        }
        String target = new String(head, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);
        return new DefaultHttpRequest(version, method, target, headers);
    }

    /**
     * The index of the first byte from {@code at} that a field value may not hold (its CR, if the line is
     * clean). Eight bytes at a time: a word with no byte below 0x20 and none equal to 0x7F is all value
     * (obs-text included); only a word with one, usually the one holding the CR, is looked at byte by byte.
     */
    private static int endOfValue(byte[] head, int at, int end) {
        while (at + Long.BYTES <= end) {
            long word = (long) LONGS.get(head, at);
            long below = (word - 0x2020202020202020L) & ~word & 0x8080808080808080L;
            long x = word ^ 0x7F7F7F7F7F7F7F7FL;
            long del = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if ((below | del) != 0) {
                break;
            }
            at += Long.BYTES;
        }
        while (VALUE[head[at] & 0xFF]) {
            at++;
        }
        return at;
    }

    private static HttpMethod method(byte[] b, int length) {
        switch (length) {
            case 3:
                if (b[0] == 'G' && b[1] == 'E' && b[2] == 'T') {
                    return HttpMethod.GET;
                }
                if (b[0] == 'P' && b[1] == 'U' && b[2] == 'T') {
                    return HttpMethod.PUT;
                }
                return null;
            case 4:
                if (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D') {
                    return HttpMethod.HEAD;
                }
                if (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T') {
                    return HttpMethod.POST;
                }
                return null;
            case 5:
                return matches(b, 0, "PATCH") ? HttpMethod.PATCH : matches(b, 0, "TRACE") ? HttpMethod.TRACE : null;
            case 6:
                return matches(b, 0, "DELETE") ? HttpMethod.DELETE : null;
            case 7:
                return matches(b, 0, "OPTIONS") ? HttpMethod.OPTIONS : matches(b, 0, "CONNECT") ? HttpMethod.CONNECT : null;
            default:
                return null;
        }
    }

    private static HttpVersion version(byte[] b, int at) {
        if (b[at] != 'H' || b[at + 1] != 'T' || b[at + 2] != 'T' || b[at + 3] != 'P' || b[at + 4] != '/'
                || b[at + 5] != '1' || b[at + 6] != '.') {
            return null;
        }
        return b[at + 7] == '1' ? HttpVersion.HTTP_1_1 : b[at + 7] == '0' ? HttpVersion.HTTP_1_0 : null;
    }

    private static boolean matches(byte[] b, int at, String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            if (b[at + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Content-Length, Transfer-Encoding, and the two Sec-WebSocket-Key fields by which Netty gives an
     * old WebSocket handshake a body of 8 bytes: a head with any of them is left to Netty's parser.
     */
    private static boolean framesABody(byte[] b, int at, int length) {
        return (length == 14 && equalsIgnoreCase(b, at, "content-length"))
                || (length == 17 && equalsIgnoreCase(b, at, "transfer-encoding"))
                || (length == 18 && equalsIgnoreCase(b, at, "sec-websocket-key") && (b[at + 17] == '1' || b[at + 17] == '2'));
    }

    private static boolean equalsIgnoreCase(byte[] b, int at, String lower) {
        for (int i = 0; i < lower.length(); i++) {
            int c = b[at + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static AsciiString name(byte[] b, int at, int length) {
        if (length < NAMES.length) {
            for (AsciiString known : NAMES[length]) {
                if (sameBytes(known, b, at, length)) {
                    return known;
                }
            }
        }
        return new AsciiString(b, at, length, false);
    }

    private static boolean sameBytes(AsciiString known, byte[] b, int at, int length) {
        byte[] k = known.array();
        int off = known.arrayOffset();
        for (int i = 0; i < length; i++) {
            if (k[off + i] != b[at + i]) {
                return false;
            }
        }
        return true;
    }
}
