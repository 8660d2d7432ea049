package river.config;

import java.util.List;

/**
 * A service's response compression on the fly ({@code compression { … }}); off unless {@code enabled true}.
 *
 * @param algorithms codings in preference order for equal q-values, from {@code br}, {@code zstd}, {@code gzip}
 * @param minSize bodies with a smaller Content-Length are sent as they are
 * @param types media types compressed: {@code type/subtype}, {@code type/*}, or a suffix such as {@code +json}
 */
public record CompressionConfig(boolean enabled, List<String> algorithms, int minSize, List<String> types, int gzipLevel,
        int brotliLevel, int zstdLevel) {
    public static final List<String> ALGORITHMS = List.of("br", "zstd", "gzip");
    public static final List<String> DEFAULT_TYPES = List.of("text/*", "application/json", "application/javascript",
            "application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml", "application/wasm",
            "application/manifest+json", "image/svg+xml", "image/x-icon", "font/ttf", "font/otf", "+json", "+xml");

    public CompressionConfig {
        algorithms = List.copyOf(algorithms);
        types = List.copyOf(types);
    }

    public static CompressionConfig defaults() {
        return new CompressionConfig(false, ALGORITHMS, 1024, DEFAULT_TYPES, 6, 4, 3);
    }
}
