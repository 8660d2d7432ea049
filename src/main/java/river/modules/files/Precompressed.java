package river.modules.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Precompressed variants ({@code precompressed true}): {@code FILE.br}, {@code FILE.zst} and
 * {@code FILE.gz} beside {@code FILE}, chosen by the request's {@code Accept-Encoding} q-values
 * (RFC 9110 §12.5.3): the acceptable encoding (q &gt; 0, named or through {@code *}) with the highest q
 * whose file exists, ties going to br, then zstd, then gzip. A variant must be a regular file whose real
 * path lies below the base, like any file served.
 */
final class Precompressed {
    /** A chosen variant: its file and its {@code Content-Encoding}. */
    record Variant(Path file, String encoding) {}

    private static final String[] ENCODINGS = {"br", "zstd", "gzip"};
    private static final String[] SUFFIXES = {".br", ".zst", ".gz"};

    private Precompressed() {}

    /** The variant to send for {@code original}, or null for the original itself. */
    static Variant choose(Path original, Path base, String acceptEncoding) throws IOException {
        if (acceptEncoding == null || acceptEncoding.isBlank()) {
            return null;
        }
        double[] q = qValues(acceptEncoding);
        Variant best = null;
        double bestQ = 0;
        for (int i = 0; i < ENCODINGS.length; i++) {
            if (q[i] <= bestQ) {
                continue;
            }
            Path candidate = original.resolveSibling(original.getFileName() + SUFFIXES[i]);
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            Path real = candidate.toRealPath();
            if (real.startsWith(base) && Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) && Files.isReadable(real)) {
                best = new Variant(real, ENCODINGS[i]);
                bestQ = q[i];
            }
        }
        return best;
    }

    /** q for br, zstd, gzip (in {@link #ENCODINGS} order); 0 when not acceptable. */
    static double[] qValues(String header) {
        double[] q = new double[ENCODINGS.length];
        boolean[] named = new boolean[ENCODINGS.length];
        double star = 0;
        for (String element : header.split(",")) {
            String[] parts = element.split(";");
            String coding = parts[0].trim().toLowerCase(Locale.ROOT);
            double weight = 1;
            for (int p = 1; p < parts.length; p++) {
                String param = parts[p].trim();
                if (param.length() > 2 && (param.charAt(0) == 'q' || param.charAt(0) == 'Q') && param.charAt(1) == '=') {
                    try {
                        weight = Double.parseDouble(param.substring(2).trim());
                    } catch (NumberFormatException e) {
                        weight = 0;
                    }
                }
            }
            if (!(weight >= 0 && weight <= 1)) {
                weight = 0;
            }
            if (coding.equals("*")) {
                star = weight;
            } else if (coding.equals("x-gzip")) {
                named[2] = true;
                q[2] = Math.max(q[2], weight);
            } else {
                for (int i = 0; i < ENCODINGS.length; i++) {
                    if (coding.equals(ENCODINGS[i])) {
                        named[i] = true;
                        q[i] = Math.max(q[i], weight);
                    }
                }
            }
        }
        for (int i = 0; i < ENCODINGS.length; i++) {
            if (!named[i]) {
                q[i] = star;
            }
        }
        return q;
    }
}
