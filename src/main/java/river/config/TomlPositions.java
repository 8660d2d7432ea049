package river.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each key and value of a TOML file is, by its path in the tree ({@code ["basic-proxy", 0, "name"]}).
 * Jackson's TOML parser builds its tree without positions (only a syntax error carries a {@code JsonLocation}),
 * so this scans the text once more, after Jackson has accepted it, following the same rules for table headers,
 * arrays of tables, dotted keys, inline tables and arrays. Text Jackson rejected never reaches it; on anything
 * it does not understand it stops, and lookups fall back to the nearest recorded ancestor.
 */
final class TomlPositions {
    /** A key's position and its value's (a table header's are both the header's {@code [}). */
    record Spot(Problems.Where key, Problems.Where value) {}

    private final String text;
    private final int[] lineStarts;
    private final Map<List<Object>, Spot> spots = new HashMap<>();
    private final Map<List<Object>, Integer> tableArrays = new HashMap<>();
    private int at;

    private TomlPositions(String text) {
        this.text = text;
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                starts.add(i + 1);
            }
        }
        lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Indexes {@code text}, which Jackson has parsed without error. */
    static TomlPositions of(String text) {
        TomlPositions p = new TomlPositions(text);
        try {
            p.document();
        } catch (RuntimeException e) {
            // Stop at what the scanner does not follow; what was recorded stays usable.
        }
        return p;
    }

    /** The key at {@code path}, or its nearest recorded ancestor's, or the top of the file. */
    Problems.Where key(List<Object> path) {
        return spot(path).key();
    }

    /** The value at {@code path}, or its nearest recorded ancestor's key, or the top of the file. */
    Problems.Where value(List<Object> path) {
        Spot exact = spots.get(path);
        return exact != null ? exact.value() : spot(path).key();
    }

    private Spot spot(List<Object> path) {
        for (int n = path.size(); n > 0; n--) {
            Spot s = spots.get(path.subList(0, n));
            if (s != null) {
                return s;
            }
        }
        return new Spot(Problems.Where.TOP, Problems.Where.TOP);
    }

    // ---- the scan ---------------------------------------------------------------------------------

    private void document() {
        List<Object> table = List.of();
        while (true) {
            skipBlankAndComments();
            if (at >= text.length()) {
                return;
            }
            if (text.charAt(at) == '[') {
                Problems.Where header = where(at);
                boolean array = text.startsWith("[[", at);
                at += array ? 2 : 1;
                List<String> keys = key();
                at += array ? 2 : 1;
                table = resolve(keys, array, header);
            } else {
                keyValue(table);
            }
        }
    }

    /** A header's path: every prefix naming an array of tables means its last element. */
    private List<Object> resolve(List<String> keys, boolean array, Problems.Where header) {
        List<Object> path = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            path.add(keys.get(i));
            boolean last = i == keys.size() - 1;
            if (last && array) {
                int count = tableArrays.merge(List.copyOf(path), 1, Integer::sum);
                record(path, header, header);
                path.add(count - 1);
                record(path, header, header);
            } else {
                Integer count = tableArrays.get(path);
                if (count != null) {
                    path.add(count - 1);
                }
                if (last) {
                    record(path, header, header);
                }
            }
        }
        return List.copyOf(path);
    }

    private void keyValue(List<Object> table) {
        Problems.Where keyAt = where(at);
        List<String> keys = key();
        List<Object> path = new ArrayList<>(table);
        for (int i = 0; i < keys.size() - 1; i++) {
            path.add(keys.get(i));
            record(path, keyAt, keyAt);
        }
        path.add(keys.get(keys.size() - 1));
        skipSpaces();
        expect('=');
        skipSpaces();
        Problems.Where valueAt = where(at);
        record(path, keyAt, valueAt);
        scanValue(List.copyOf(path));
    }

    private void scanValue(List<Object> path) {
        char c = text.charAt(at);
        if (c == '{') {
            at++;
            while (true) {
                skipSpaces();
                if (text.charAt(at) == '}') {
                    at++;
                    return;
                }
                keyValue(path);
                skipSpaces();
                if (text.charAt(at) == ',') {
                    at++;
                }
            }
        }
        if (c == '[') {
            at++;
            int index = 0;
            while (true) {
                skipBlankAndComments();
                if (text.charAt(at) == ']') {
                    at++;
                    return;
                }
                List<Object> element = new ArrayList<>(path);
                element.add(index++);
                Problems.Where here = where(at);
                record(element, here, here);
                scanValue(List.copyOf(element));
                skipBlankAndComments();
                if (text.charAt(at) == ',') {
                    at++;
                }
            }
        }
        if (c == '"' || c == '\'') {
            string();
            return;
        }
        while (at < text.length() && ",]}#\r\n".indexOf(text.charAt(at)) < 0) {
            at++;
        }
    }

    private List<String> key() {
        List<String> keys = new ArrayList<>();
        while (true) {
            skipSpaces();
            char c = text.charAt(at);
            if (c == '"' || c == '\'') {
                keys.add(string());
            } else {
                int start = at;
                while (at < text.length() && isBare(text.charAt(at))) {
                    at++;
                }
                if (at == start) {
                    throw new IllegalStateException("no key at " + at);
                }
                keys.add(text.substring(start, at));
            }
            skipSpaces();
            if (at < text.length() && text.charAt(at) == '.') {
                at++;
            } else {
                return keys;
            }
        }
    }

    /** A basic, literal or multi-line string at {@code at}; returns its content (escapes decoded only as far as keys need). */
    private String string() {
        char quote = text.charAt(at);
        boolean multi = text.startsWith(String.valueOf(quote).repeat(3), at);
        at += multi ? 3 : 1;
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = text.charAt(at);
            if (c == '\\' && quote == '"') {
                char next = text.charAt(at + 1);
                switch (next) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'e' -> out.append('\u001b');
                    case 'u', 'U' -> {
                        int digits = next == 'u' ? 4 : 8;
                        out.appendCodePoint(Integer.parseInt(text.substring(at + 2, at + 2 + digits), 16));
                        at += digits;
                    }
                    default -> out.append(next);
                }
                at += 2;
                continue;
            }
            if (c == quote && (!multi || text.startsWith(String.valueOf(quote).repeat(3), at))) {
                at += multi ? 3 : 1;
                // A multi-line string may end with up to two more quotes that belong to its content.
                while (multi && at < text.length() && text.charAt(at) == quote) {
                    out.append(quote);
                    at++;
                }
                return out.toString();
            }
            out.append(c);
            at++;
        }
    }

    private static boolean isBare(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    private void skipSpaces() {
        while (at < text.length() && (text.charAt(at) == ' ' || text.charAt(at) == '\t')) {
            at++;
        }
    }

    private void skipBlankAndComments() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                at++;
            } else if (c == '#') {
                while (at < text.length() && text.charAt(at) != '\n') {
                    at++;
                }
            } else {
                return;
            }
        }
    }

    private void expect(char c) {
        if (text.charAt(at) != c) {
            throw new IllegalStateException("expected " + c + " at " + at);
        }
        at++;
    }

    private void record(List<Object> path, Problems.Where key, Problems.Where value) {
        spots.putIfAbsent(List.copyOf(path), new Spot(key, value));
    }

    private Problems.Where where(int offset) {
        int line = java.util.Arrays.binarySearch(lineStarts, offset);
        line = line >= 0 ? line : -line - 2;
        // Columns count code points, as the KDL reader's do.
        return new Problems.Where(line + 1, text.codePointCount(lineStarts[line], offset) + 1);
    }
}
