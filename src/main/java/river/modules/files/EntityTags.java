package river.modules.files;

/**
 * Entity-tag lists as sent in {@code If-Match}, {@code If-None-Match} and {@code If-Range}
 * (RFC 9110 §8.8.3): {@code *} or a comma-separated list of {@code "tag"} / {@code W/"tag"}.
 */
final class EntityTags {
    private EntityTags() {}

    /**
     * Whether {@code header} matches {@code etag} (River's own tag, always strong, quotes included).
     *
     * @param weak weak comparison (If-None-Match): {@code W/} prefixes are ignored; strong comparison
     *     (If-Match, If-Range): a weak tag never matches
     */
    static boolean matches(String header, String etag, boolean weak) {
        String h = header.trim();
        if (h.equals("*")) {
            return true;
        }
        int i = 0;
        int n = h.length();
        while (i < n) {
            char c = h.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++;
                continue;
            }
            boolean isWeak = false;
            if (c == 'W' && i + 1 < n && h.charAt(i + 1) == '/') {
                isWeak = true;
                i += 2;
            }
            if (i >= n || h.charAt(i) != '"') {
                return false; // not a list of entity tags: nothing matches
            }
            int close = h.indexOf('"', i + 1);
            if (close < 0) {
                return false;
            }
            if ((weak || !isWeak) && h.regionMatches(i, etag, 0, etag.length()) && close + 1 - i == etag.length()) {
                return true;
            }
            i = close + 1;
        }
        return false;
    }
}
