package river.proxy;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.BrotliEncoder;
import io.netty.handler.codec.compression.BrotliMode;
import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.compression.ZstdEncoder;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's response compression on the fly: which codings it offers in which preference, from what
 * size, for which media types, and at what levels. {@link #decide} applies the rules to one response and
 * rewrites its head; {@link #wrap} puts the encoding on an exchange's client side, so that proxied,
 * local and file responses all pass through it.
 *
 * @param algorithms codings in preference order for equal q-values: {@code br}, {@code zstd}, {@code gzip}
 * @param minSize bodies whose Content-Length is below this are sent as they are (unknown lengths are compressed)
 * @param types media types compressed: {@code type/subtype}, {@code type/*}, or {@code +suffix} (e.g. {@code +json})
 */
public record Compression(boolean enabled, List<String> algorithms, long minSize, List<String> types, int gzipLevel,
        int brotliLevel, int zstdLevel) {
    private static final Logger LOG = LoggerFactory.getLogger(Compression.class);

    /** Compression off: what every service has unless its configuration turns it on. */
    public static final Compression OFF = new Compression(false, List.of(), 0, List.of(), 6, 4, 3);

    public Compression {
        algorithms = List.copyOf(algorithms);
        types = List.copyOf(types);
    }

    /** The codings this machine can produce: Brotli and zstd need their native libraries to load. */
    static boolean available(String coding) {
        return switch (coding) {
            case "gzip" -> true;
            case "br" -> io.netty.handler.codec.compression.Brotli.isAvailable();
            case "zstd" -> io.netty.handler.codec.compression.Zstd.isAvailable();
            default -> false;
        };
    }

    /** The algorithms of this service that can run here; logs once for each that cannot. */
    List<String> usable() {
        List<String> out = new ArrayList<>(algorithms.size());
        for (String a : algorithms) {
            if (available(a)) {
                out.add(a);
            } else {
                LOG.warn("compression: {} is configured but its native library does not load here; not offered", a);
            }
        }
        return out;
    }

    /** The client side of an exchange, compressing its responses when this service compresses. */
    Downstream wrap(Downstream downstream, List<String> offered, HttpRequest request) {
        if (!enabled || offered.isEmpty()) {
            return downstream;
        }
        return new CompressingDownstream(downstream, this, offered, request);
    }

    /**
     * The coding to use for a response to a request with this {@code Accept-Encoding} (RFC 9110 §12.5.3):
     * the offered coding with the highest q-value above 0, ties broken by {@code offered}'s order; a coding
     * not named is acceptable only through {@code *}. Null for identity.
     */
    static String negotiate(String acceptEncoding, List<String> offered) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) {
            return null;
        }
        double[] q = new double[offered.size()];
        java.util.Arrays.fill(q, -1);
        double star = -1;
        for (String part : acceptEncoding.split(",")) {
            String[] bits = part.split(";");
            String coding = bits[0].trim().toLowerCase(Locale.ROOT);
            if (coding.equals("x-gzip")) {
                coding = "gzip";
            }
            double value = 1;
            for (int i = 1; i < bits.length; i++) {
                String p = bits[i].trim();
                if (p.length() > 2 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.charAt(1) == '=') {
                    try {
                        value = Double.parseDouble(p.substring(2).trim());
                    } catch (NumberFormatException e) {
                        value = 0;
                    }
                }
            }
            if (coding.equals("*")) {
                star = value;
            } else {
                int i = offered.indexOf(coding);
                if (i >= 0) {
                    q[i] = value;
                }
            }
        }
        String best = null;
        double bestQ = 0;
        for (int i = 0; i < q.length; i++) {
            double v = q[i] >= 0 ? q[i] : star;
            if (v > bestQ) {
                bestQ = v;
                best = offered.get(i);
            }
        }
        return best;
    }

    /** Whether a response of this media type (a Content-Type value, parameters allowed) is compressed. */
    boolean compressible(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String type = (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
        if (type.equals("text/event-stream")) {
            return false; // events must reach the client as they are written
        }
        int slash = type.indexOf('/');
        if (slash <= 0) {
            return false;
        }
        for (String t : types) {
            if (t.equals(type)
                    || (t.endsWith("/*") && type.regionMatches(0, t, 0, t.length() - 1))
                    || (t.startsWith("+") && type.endsWith(t))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Applies the rules to a response head on its way to the client, and when it is to be compressed,
     * rewrites the head (Content-Encoding, no Content-Length, a weak ETag, no Accept-Ranges).
     *
     * @return the coding, or null to send the body as it is
     */
    String decide(HttpRequest request, HttpResponse response, boolean bodyFollows, List<String> offered) {
        HttpHeaders h = response.headers();
        int status = response.status().code();
        if (!bodyFollows || status < 200 || status == 204 || status == 206 || status == 304
                || request.method().name().equals("HEAD") || request.method().name().equals("CONNECT")
                || h.contains(HttpHeaderNames.CONTENT_RANGE)
                || h.contains(HttpHeaderNames.CONTENT_ENCODING) && !h.get(HttpHeaderNames.CONTENT_ENCODING).trim().equalsIgnoreCase("identity")
                || h.containsValue(HttpHeaderNames.CACHE_CONTROL, "no-transform", true)
                || !compressible(h.get(HttpHeaderNames.CONTENT_TYPE))) {
            return null;
        }
        // The body depends on Accept-Encoding from here on, whether or not this client gets it compressed.
        addVary(h);
        String lengthValue = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (lengthValue != null) {
            try {
                if (Long.parseLong(lengthValue.trim()) < minSize) {
                    return null;
                }
            } catch (NumberFormatException e) {
                return null;
            }
        }
        String coding = negotiate(request.headers().get(HttpHeaderNames.ACCEPT_ENCODING), offered);
        if (coding == null) {
            return null;
        }
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        h.set(HttpHeaderNames.CONTENT_ENCODING, coding);
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            // The compressed bytes are not the origin's: a strong validator would promise byte equality.
            h.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
        return coding;
    }

    private static void addVary(HttpHeaders h) {
        List<String> vary = h.getAll(HttpHeaderNames.VARY);
        for (String v : vary) {
            for (String name : v.split(",")) {
                String n = name.trim();
                if (n.equals("*") || n.equalsIgnoreCase("accept-encoding")) {
                    return;
                }
            }
        }
        if (vary.isEmpty()) {
            h.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
        } else {
            h.set(HttpHeaderNames.VARY, String.join(", ", vary) + ", Accept-Encoding");
        }
    }

    /** A channel holding the encoder for one response body. */
    EmbeddedChannel encoder(String coding) {
        return switch (coding) {
            case "gzip" -> new EmbeddedChannel(ZlibCodecFactory.newZlibEncoder(ZlibWrapper.GZIP, gzipLevel, 15, 8));
            case "br" -> new EmbeddedChannel(new BrotliEncoder(StandardCompressionOptions.brotli(brotliLevel, 22, BrotliMode.TEXT)));
            case "zstd" -> new EmbeddedChannel(new ZstdEncoder(zstdLevel, 64 * 1024, 1 << 22));
            default -> throw new IllegalArgumentException("unknown coding " + coding);
        };
    }
}
