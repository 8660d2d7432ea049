package river.modules.normalize;

/**
 * Puts a request path into one canonical form, or says why it cannot (River 0.8's normalization):
 * percent-encoding checked and canonical (unreserved characters decoded, other hex digits upper
 * case), encoded separators and control characters refused, runs of slashes collapsed, and dot
 * segments resolved (RFC 3986 §5.2.4) with a climb above the root refused rather than clamped.
 */
final class PathNormalizer {
    /** What a check found wrong, or null when the path is acceptable. */
    record Result(String path, String problem) {}

    private final boolean percentEncoding;
    private final boolean encodedSeparators;
    private final boolean controlCharacters;
    private final boolean duplicateSlashes;
    private final boolean dotSegments;

    PathNormalizer(boolean percentEncoding, boolean encodedSeparators, boolean controlCharacters, boolean duplicateSlashes, boolean dotSegments) {
        this.percentEncoding = percentEncoding;
        this.encodedSeparators = encodedSeparators;
        this.controlCharacters = controlCharacters;
        this.duplicateSlashes = duplicateSlashes;
        this.dotSegments = dotSegments;
    }

    Result normalize(String path) {
        if (isPlain(path)) {
            return new Result(path, null);
        }
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (controlCharacters && (c < 0x20 || c == 0x7f)) {
                return new Result(null, "control character in the path");
            }
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 2 >= path.length() || hex(path.charAt(i + 1)) < 0 || hex(path.charAt(i + 2)) < 0) {
                if (percentEncoding) {
                    return new Result(null, "malformed percent-encoding in the path");
                }
                out.append(c);
                continue;
            }
            int value = hex(path.charAt(i + 1)) * 16 + hex(path.charAt(i + 2));
            if (encodedSeparators && (value == '/' || value == '\\')) {
                return new Result(null, "encoded path separator (%2F or %5C)");
            }
            if (controlCharacters && (value < 0x20 || value == 0x7f)) {
                return new Result(null, "encoded control character in the path");
            }
            if (percentEncoding && isUnreserved(value)) {
                out.append((char) value); // %61 and a are the same path; %2E%2E becomes ..
            } else if (percentEncoding) {
                out.append('%').append(Character.toUpperCase(path.charAt(i + 1))).append(Character.toUpperCase(path.charAt(i + 2)));
            } else {
                out.append(path, i, i + 3);
            }
            i += 2;
        }
        String p = out.toString();
        if (duplicateSlashes && p.contains("//")) {
            StringBuilder collapsed = new StringBuilder(p.length());
            for (int i = 0; i < p.length(); i++) {
                char c = p.charAt(i);
                if (c != '/' || collapsed.length() == 0 || collapsed.charAt(collapsed.length() - 1) != '/') {
                    collapsed.append(c);
                }
            }
            p = collapsed.toString();
        }
        if (dotSegments) {
            String resolved = removeDotSegments(p);
            if (resolved == null) {
                return new Result(null, "the path climbs above the root with ..");
            }
            p = resolved;
        }
        return new Result(p, null);
    }

    /**
     * The common case, decided in one scan: no escapes, no control characters, no doubled slash and
     * no dot segment, so there is nothing to check or change.
     */
    private static boolean isPlain(String path) {
        char previous = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' || c < 0x20 || c == 0x7f || (c == '/' && previous == '/') || (c == '.' && previous == '/')) {
                return false;
            }
            previous = c;
        }
        return true;
    }

    /** RFC 3986 §5.2.4 on an absolute path; null when a ".." would go above the root. */
    static String removeDotSegments(String path) {
        if (!path.startsWith("/")) {
            return path;
        }
        String[] segments = path.substring(1).split("/", -1);
        java.util.ArrayDeque<String> kept = new java.util.ArrayDeque<>();
        boolean trailingSlash = false;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean lastSegment = i == segments.length - 1;
            if (s.equals(".")) {
                trailingSlash = lastSegment;
            } else if (s.equals("..")) {
                if (kept.isEmpty()) {
                    return null;
                }
                kept.removeLast();
                trailingSlash = lastSegment;
            } else {
                kept.addLast(s);
                trailingSlash = false;
            }
        }
        StringBuilder out = new StringBuilder();
        for (String s : kept) {
            out.append('/').append(s);
        }
        if (trailingSlash || out.length() == 0) {
            out.append('/');
        }
        return out.toString();
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}
