package river.kdl;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recursive-descent parser for KDL 1.0 and KDL 2.0.
 *
 * <p>{@link #parse(String)} follows the KDL 2.0 specification's advice for documents of unknown
 * version: an explicit {@code /- kdl-version N} marker decides; otherwise the text is read as KDL 2
 * and, if that fails, as KDL 1. The parser works on code points so that columns match what an editor
 * shows.
 */
public final class KdlParser {

    private KdlParser() {}

    /** Parses a document whose version is detected as described above. */
    public static KdlDocument parse(String text) throws KdlParseException {
        KdlVersion marked = versionMarker(text);
        if (marked != null) {
            return parse(text, marked);
        }
        try {
            return parse(text, KdlVersion.V2);
        } catch (KdlParseException v2Error) {
            try {
                return parse(text, KdlVersion.V1);
            } catch (KdlParseException v1Error) {
                // The parse that got further explains the problem better; on a tie prefer v1,
                // the syntax River's own files use.
                throw v2Error.offset() > v1Error.offset() ? v2Error : v1Error;
            }
        }
    }

    /** Parses a document strictly as the given version. */
    public static KdlDocument parse(String text, KdlVersion version) throws KdlParseException {
        return new Reader(text, version == KdlVersion.V2).document();
    }

    /** Whether a name can be written without quotes in KDL 1. */
    static boolean isBareIdentifierV1(String s) {
        if (s.isEmpty() || Reader.isV1Keyword(s)) {
            return false;
        }
        int[] c = s.codePoints().toArray();
        for (int ch : c) {
            if (!Reader.isV1IdentifierChar(ch)) {
                return false;
            }
        }
        if (s.startsWith("//") || s.startsWith("/*") || s.startsWith("/-") || s.startsWith("r\"") || s.startsWith("r#")) {
            return false;
        }
        boolean signed = c[0] == '+' || c[0] == '-';
        return !Reader.isDigit(c[0]) && !(signed && c.length > 1 && Reader.isDigit(c[1]));
    }

    /** Whether a string can be written as a bare identifier in KDL 2. */
    static boolean isBareIdentifierV2(String s) {
        return Reader.isValidV2Identifier(s);
    }

    private static KdlVersion versionMarker(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        if (!t.startsWith("/-")) {
            return null;
        }
        int end = t.indexOf('\n');
        String line = (end < 0 ? t : t.substring(0, end)).substring(2).strip();
        if (line.matches("kdl-version\\s+1")) {
            return KdlVersion.V1;
        }
        if (line.matches("kdl-version\\s+2")) {
            return KdlVersion.V2;
        }
        return null;
    }

    /** The state of one parse. */
    private static final class Reader {
        private static final int EOF = -1;

        private final int[] cp;
        private final boolean v2;
        private int pos;

        Reader(String text, boolean v2) {
            this.cp = text.codePoints().toArray();
            this.v2 = v2;
        }

        KdlDocument document() throws KdlParseException {
            if (peek() == 0xFEFF) {
                pos++;
            }
            List<KdlNode> nodes = nodes(false);
            if (pos < cp.length) {
                throw error("unexpected " + quoted(peek()));
            }
            return new KdlDocument(nodes, v2 ? KdlVersion.V2 : KdlVersion.V1);
        }

        // ---- structure -------------------------------------------------------------------------

        private List<KdlNode> nodes(boolean inBlock) throws KdlParseException {
            List<KdlNode> nodes = new ArrayList<>();
            while (true) {
                skipLineSpace();
                int c = peek();
                if (c == EOF || (inBlock && c == '}')) {
                    return nodes;
                }
                boolean discarded = false;
                if (startsWith("/-")) {
                    pos += 2;
                    discarded = true;
                    skipAfterSlashdash();
                }
                KdlNode node = node();
                if (!discarded) {
                    nodes.add(node);
                }
            }
        }

        private void skipAfterSlashdash() throws KdlParseException {
            if (v2) {
                skipLineSpace();
            } else {
                skipNodeSpace();
            }
        }

        private KdlNode node() throws KdlParseException {
            KdlPosition position = position(pos);
            String type = null;
            if (peek() == '(') {
                type = typeAnnotation();
                if (v2) {
                    skipNodeSpace();
                }
            }
            int c = peek();
            if (c == EOF || c == '}' || c == ';' || isNewline(c)) {
                throw error("expected a node name");
            }
            String name = nodeName();
            List<KdlValue> arguments = new ArrayList<>();
            Map<String, KdlProperty> properties = new LinkedHashMap<>();
            List<KdlNode> children = List.of();
            boolean hasBlock = false;
            boolean sawBlock = false;
            while (true) {
                boolean spaced = skipNodeSpace();
                c = peek();
                if (c == EOF || c == '}') {
                    break;
                }
                if (c == ';') {
                    pos++;
                    break;
                }
                if (isNewline(c)) {
                    consumeNewline();
                    break;
                }
                if (startsWith("//")) {
                    skipLineComment();
                    break;
                }
                boolean discarded = false;
                if (startsWith("/-")) {
                    pos += 2;
                    discarded = true;
                    skipAfterSlashdash();
                    c = peek();
                } else if (c != '{' && !spaced) {
                    throw error("expected whitespace before an argument or property");
                }
                if (c == '{') {
                    List<KdlNode> block = childBlock();
                    sawBlock = true;
                    if (!discarded) {
                        if (hasBlock) {
                            throw error("a node can have only one children block");
                        }
                        children = block;
                        hasBlock = true;
                    }
                    continue;
                }
                if (sawBlock) {
                    throw error("arguments and properties must come before the children block");
                }
                entry(arguments, properties, discarded);
            }
            return new KdlNode(name, type, arguments, properties, children, hasBlock, position);
        }

        private List<KdlNode> childBlock() throws KdlParseException {
            pos++; // '{'
            List<KdlNode> children = nodes(true);
            if (peek() != '}') {
                throw error("expected '}' to close the children block");
            }
            pos++;
            return children;
        }

        private String nodeName() throws KdlParseException {
            int c = peek();
            if (isStringStart()) {
                return string();
            }
            if (v2) {
                return identifierString("a node name");
            }
            if (isDigit(c) || ((c == '+' || c == '-') && isDigit(peekAt(1)))) {
                throw error("a node name cannot start with a digit");
            }
            String id = bareIdentifier();
            if (id.isEmpty()) {
                throw error("expected a node name, found " + quoted(c));
            }
            if (isV1Keyword(id)) {
                throw error("'" + id + "' is a keyword and cannot be a node name");
            }
            return id;
        }

        /** Parses an argument or a property into the lists (discarding it when slashdashed). */
        private void entry(List<KdlValue> arguments, Map<String, KdlProperty> properties, boolean discarded)
                throws KdlParseException {
            int start = pos;
            KdlPosition position = position(start);
            int c = peek();
            if (c == '(') {
                KdlValue value = value();
                if (!discarded) {
                    arguments.add(value);
                }
                return;
            }
            String key = null;
            if (isStringStart()) {
                key = string();
            } else if (!isNumberStart() && !(v2 && c == '#')) {
                key = v2 ? identifierString("an argument or property") : bareIdentifier();
                if (!v2 && key.isEmpty()) {
                    throw error("unexpected " + quoted(c));
                }
            }
            if (key != null) {
                int afterKey = pos;
                if (v2) {
                    skipNodeSpace();
                }
                if (peek() == '=') {
                    pos++;
                    if (v2) {
                        skipNodeSpace();
                    }
                    KdlValue value = value();
                    if (!discarded) {
                        properties.remove(key);
                        properties.put(key, new KdlProperty(key, value, position));
                    }
                    return;
                }
                pos = afterKey;
                if (!v2 && !isStringAt(start)) {
                    // A bare word in KDL 1 is only a value when it is a keyword.
                    if (!isV1Keyword(key)) {
                        throw new KdlParseException(
                                "bare identifier '" + key + "' cannot be a value; quote it", position, start);
                    }
                    pos = start;
                }
                if (v2 || isStringAt(start)) {
                    if (!discarded) {
                        arguments.add(new KdlValue.Str(key, null, position));
                    }
                    return;
                }
            }
            KdlValue value = value();
            if (!discarded) {
                arguments.add(value);
            }
        }

        private boolean isStringAt(int at) {
            int c = cp[at];
            if (c == '"') {
                return true;
            }
            if (v2) {
                return c == '#' && at + 1 < cp.length && (cp[at + 1] == '"' || cp[at + 1] == '#');
            }
            return c == 'r' && at + 1 < cp.length && (cp[at + 1] == '"' || cp[at + 1] == '#');
        }

        private KdlValue value() throws KdlParseException {
            String type = null;
            if (peek() == '(') {
                type = typeAnnotation();
                if (v2) {
                    skipNodeSpace();
                }
            }
            int start = pos;
            KdlPosition position = position(start);
            int c = peek();
            if (isStringStart()) {
                return new KdlValue.Str(string(), type, position);
            }
            if (isNumberStart()) {
                return number(type, position);
            }
            if (v2) {
                if (c == '#') {
                    String word = readWhile(Reader::isV2KeywordChar);
                    requireDelimiter();
                    switch (word) {
                        case "#true":
                            return new KdlValue.Bool(true, type, position);
                        case "#false":
                            return new KdlValue.Bool(false, type, position);
                        case "#null":
                            return new KdlValue.Null(type, position);
                        case "#inf":
                            return new KdlValue.Num(Double.POSITIVE_INFINITY, 10, "#inf", type, position);
                        case "#-inf":
                            return new KdlValue.Num(Double.NEGATIVE_INFINITY, 10, "#-inf", type, position);
                        case "#nan":
                            return new KdlValue.Num(Double.NaN, 10, "#nan", type, position);
                        default:
                            throw new KdlParseException("unknown keyword '" + word + "'", position, start);
                    }
                }
                return new KdlValue.Str(identifierString("a value"), type, position);
            }
            String word = bareIdentifier();
            switch (word) {
                case "true":
                    return new KdlValue.Bool(true, type, position);
                case "false":
                    return new KdlValue.Bool(false, type, position);
                case "null":
                    return new KdlValue.Null(type, position);
                default:
                    throw new KdlParseException(
                            word.isEmpty() ? "expected a value" : "bare identifier '" + word + "' cannot be a value",
                            position,
                            start);
            }
        }

        private String typeAnnotation() throws KdlParseException {
            pos++; // '('
            if (v2) {
                skipNodeSpace();
            }
            String type;
            if (isStringStart()) {
                type = string();
            } else if (v2) {
                type = identifierString("a type name");
            } else {
                type = bareIdentifier();
                if (type.isEmpty() || isV1Keyword(type)) {
                    throw error("expected a type name");
                }
            }
            if (v2) {
                skipNodeSpace();
            }
            if (peek() != ')') {
                throw error("expected ')' after the type name");
            }
            pos++;
            return type;
        }

        // ---- identifiers -------------------------------------------------------------------------

        private String bareIdentifier() {
            int start = pos;
            while (pos < cp.length && isV1IdentifierChar(cp[pos]) && !startsWith("//") && !startsWith("/*")
                    && !startsWith("/-")) {
                pos++;
            }
            return new String(cp, start, pos - start);
        }

        private String identifierString(String what) throws KdlParseException {
            int start = pos;
            KdlPosition position = position(start);
            while (pos < cp.length && isV2IdentifierChar(cp[pos])) {
                pos++;
            }
            String id = new String(cp, start, pos - start);
            if (id.isEmpty()) {
                int c = peek();
                if (c != EOF && isDisallowed(c)) {
                    throw error(String.format("disallowed character U+%04X", c));
                }
                throw error("expected " + what + (c == EOF ? "" : ", found '" + Character.toString(c) + "'"));
            }
            if (!isValidV2Identifier(id)) {
                throw new KdlParseException("'" + id + "' is not a valid identifier; quote it", position, start);
            }
            return id;
        }

        static boolean isV1Keyword(String s) {
            return s.equals("true") || s.equals("false") || s.equals("null");
        }

        static boolean isV1IdentifierChar(int c) {
            return c > 0x20 && !isV1Newline(c) && !isUnicodeSpace(c) && c != 0xFEFF && "\\(){}<>;[]=,\"".indexOf(c) < 0;
        }

        static boolean isV2IdentifierChar(int c) {
            return !isUnicodeSpace(c) && !isV2Newline(c) && "\\/(){};[]\"#=".indexOf(c) < 0 && !isDisallowed(c);
        }

        static boolean isValidV2Identifier(String id) {
            if (id.isEmpty()) {
                return false;
            }
            switch (id) {
                case "true", "false", "null", "inf", "-inf", "nan" -> {
                    return false;
                }
                default -> {}
            }
            int[] c = id.codePoints().toArray();
            for (int ch : c) {
                if (!isV2IdentifierChar(ch)) {
                    return false;
                }
            }
            int i = 0;
            if (c[0] == '+' || c[0] == '-') {
                i = 1;
            }
            if (i < c.length && c[i] == '.') {
                i++;
            }
            return i >= c.length || !isDigit(c[i]);
        }

        private static boolean isV2KeywordChar(int c) {
            return c == '#' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }

        // ---- strings ----------------------------------------------------------------------------

        private boolean isStringStart() {
            return pos < cp.length && isStringAt(pos);
        }

        private String string() throws KdlParseException {
            int start = pos;
            String s;
            if (v2) {
                int hashes = 0;
                while (peekAt(hashes) == '#') {
                    hashes++;
                }
                s = hashes > 0 ? v2RawString(hashes) : v2QuotedString();
            } else if (peek() == 'r') {
                s = v1RawString();
            } else {
                s = v1QuotedString();
            }
            if (v2) {
                requireDelimiterAfterString(start);
            }
            return s;
        }

        private void requireDelimiterAfterString(int start) throws KdlParseException {
            int c = peek();
            if (c != EOF && (isV2IdentifierChar(c) || c == '"' || c == '#')) {
                throw error("expected whitespace or a delimiter after the string");
            }
        }

        private String v1QuotedString() throws KdlParseException {
            int start = pos;
            pos++; // '"'
            StringBuilder sb = new StringBuilder();
            while (true) {
                int c = next();
                if (c == EOF) {
                    throw new KdlParseException("unterminated string (no closing quote)", position(start), start);
                }
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    int e = next();
                    switch (e) {
                        case '"' -> sb.append('"');
                        case '\\' -> sb.append('\\');
                        case '/' -> sb.append('/');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> sb.appendCodePoint(unicodeEscape());
                        default -> {
                            pos--;
                            throw error("invalid escape '\\" + (e == EOF ? "" : Character.toString(e)) + "'");
                        }
                    }
                } else {
                    sb.appendCodePoint(c);
                }
            }
        }

        private String v1RawString() throws KdlParseException {
            pos++; // 'r'
            int hashes = 0;
            while (peek() == '#') {
                hashes++;
                pos++;
            }
            if (peek() != '"') {
                throw error("expected '\"' to open the raw string");
            }
            pos++;
            int bodyStart = pos;
            while (pos < cp.length) {
                if (cp[pos] == '"' && closesRaw(pos + 1, hashes)) {
                    String s = new String(cp, bodyStart, pos - bodyStart);
                    pos += 1 + hashes;
                    return s;
                }
                pos++;
            }
            throw error("unterminated raw string");
        }

        private boolean closesRaw(int at, int hashes) {
            for (int i = 0; i < hashes; i++) {
                if (at + i >= cp.length || cp[at + i] != '#') {
                    return false;
                }
            }
            return true;
        }

        private int unicodeEscape() throws KdlParseException {
            if (next() != '{') {
                pos--;
                throw error("expected '{' in a \\u escape");
            }
            int start = pos;
            while (isHexDigit(peek())) {
                pos++;
            }
            int digits = pos - start;
            if (digits < 1 || digits > 6 || peek() != '}') {
                throw error("a \\u escape needs 1 to 6 hex digits in braces");
            }
            int value = Integer.parseInt(new String(cp, start, digits), 16);
            pos++;
            if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
                throw error("\\u escape is not a Unicode scalar value");
            }
            return value;
        }

        private String v2QuotedString() throws KdlParseException {
            if (startsWith("\"\"\"")) {
                pos += 3;
                return multiLine(false, 0);
            }
            int start = pos;
            pos++; // '"'
            int bodyStart = pos;
            while (true) {
                int c = peek();
                if (c == EOF) {
                    throw new KdlParseException("unterminated string (no closing quote)", position(start), start);
                }
                if (isV2Newline(c)) {
                    throw new KdlParseException("a single-line string cannot contain a newline; use \"\"\" for multi-line strings", position(start), start);
                }
                if (c == '\\') {
                    pos++;
                    if (isUnicodeSpace(peek()) || isV2Newline(peek())) {
                        while (isUnicodeSpace(peek()) || isV2Newline(peek())) {
                            pos++;
                        }
                    } else if (peek() != EOF) {
                        pos++;
                    }
                    continue;
                }
                if (c == '"') {
                    String body = new String(cp, bodyStart, pos - bodyStart);
                    int end = pos;
                    pos++;
                    return unescapeV2(body, bodyStart, end);
                }
                if (isDisallowed(c)) {
                    throw error(String.format("disallowed character U+%04X in a string", c));
                }
                pos++;
            }
        }

        private String v2RawString(int hashes) throws KdlParseException {
            pos += hashes;
            if (peek() != '"') {
                throw error("expected '\"' after '#' to open a raw string");
            }
            if (startsWith("\"\"\"")) {
                pos += 3;
                return multiLine(true, hashes);
            }
            pos++;
            int bodyStart = pos;
            while (pos < cp.length) {
                int c = cp[pos];
                if (c == '"' && closesRaw(pos + 1, hashes)) {
                    String s = new String(cp, bodyStart, pos - bodyStart);
                    pos += 1 + hashes;
                    return s;
                }
                if (isV2Newline(c)) {
                    throw error("a single-line raw string cannot contain a newline");
                }
                if (isDisallowed(c)) {
                    throw error(String.format("disallowed character U+%04X in a string", c));
                }
                pos++;
            }
            throw error("unterminated raw string");
        }

        /**
         * Reads a KDL 2 multi-line string after its opening quotes: a newline must follow; the last
         * line holds only whitespace before the closing quotes and is the indentation removed from
         * every other line. Escapes (in non-raw strings) are resolved after dedenting.
         */
        private String multiLine(boolean raw, int hashes) throws KdlParseException {
            if (!isV2Newline(peek())) {
                throw error("a multi-line string must start with a newline after \"\"\"");
            }
            consumeNewline();
            int bodyStart = pos;
            int closeAt = -1;
            while (pos < cp.length) {
                int c = cp[pos];
                if (!raw && c == '\\') {
                    pos += 2;
                    continue;
                }
                if (c == '"' && startsWith("\"\"\"") && closesRaw(pos + 3, hashes)) {
                    closeAt = pos;
                    break;
                }
                if (isDisallowed(c)) {
                    throw error(String.format("disallowed character U+%04X in a string", c));
                }
                pos++;
            }
            if (closeAt < 0) {
                throw error("unterminated multi-line string");
            }
            pos = closeAt + 3 + hashes;
            int[] text = raw ? java.util.Arrays.copyOfRange(cp, bodyStart, closeAt) : withoutWhitespaceEscapes(bodyStart, closeAt);
            // Split into lines with every newline kind.
            List<String> lines = new ArrayList<>();
            List<Integer> lineStarts = new ArrayList<>();
            StringBuilder line = new StringBuilder();
            int lineStart = bodyStart;
            for (int i = 0; i < text.length; i++) {
                int c = text[i];
                if (!raw && c == '\\' && i + 1 < text.length) {
                    line.appendCodePoint(c).appendCodePoint(text[i + 1]);
                    i++;
                    continue;
                }
                if (isV2Newline(c)) {
                    if (c == '\r' && i + 1 < text.length && text[i + 1] == '\n') {
                        i++;
                    }
                    lines.add(line.toString());
                    lineStarts.add(lineStart);
                    line.setLength(0);
                    lineStart = Math.min(bodyStart + i + 1, closeAt);
                } else {
                    line.appendCodePoint(c);
                }
            }
            String last = line.toString();
            if (!last.codePoints().allMatch(Reader::isUnicodeSpace)) {
                throw new KdlParseException(
                        "the closing \"\"\" of a multi-line string must be on its own line",
                        position(lineStart),
                        lineStart);
            }
            String indent = line.toString();
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                if (l.codePoints().allMatch(Reader::isUnicodeSpace)) {
                    l = "";
                } else if (l.startsWith(indent)) {
                    l = l.substring(indent.length());
                } else {
                    throw new KdlParseException(
                            "line of a multi-line string does not start with the closing line's indentation",
                            position(lineStarts.get(i)),
                            lineStarts.get(i));
                }
                if (i > 0) {
                    out.append('\n');
                }
                out.append(l);
            }
            String body = out.toString();
            return raw ? body : unescapeV2(body, bodyStart, closeAt);
        }

        /** The body with every whitespace escape (a backslash and the whitespace after it) removed. */
        private int[] withoutWhitespaceEscapes(int from, int to) {
            int[] out = new int[to - from];
            int n = 0;
            for (int i = from; i < to; i++) {
                int c = cp[i];
                if (c == '\\' && i + 1 < to && (isUnicodeSpace(cp[i + 1]) || isV2Newline(cp[i + 1]))) {
                    while (i + 1 < to && (isUnicodeSpace(cp[i + 1]) || isV2Newline(cp[i + 1]))) {
                        i++;
                    }
                    continue;
                }
                out[n++] = c;
                if (c == '\\' && i + 1 < to) {
                    out[n++] = cp[++i];
                }
            }
            return java.util.Arrays.copyOf(out, n);
        }

        private String unescapeV2(String body, int start, int end) throws KdlParseException {
            if (body.indexOf('\\') < 0) {
                return body;
            }
            int[] s = body.codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < s.length; i++) {
                int c = s[i];
                if (c != '\\') {
                    sb.appendCodePoint(c);
                    continue;
                }
                int e = i + 1 < s.length ? s[i + 1] : EOF;
                i++;
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 's' -> sb.append(' ');
                    case 'u' -> {
                        int close = i + 1;
                        while (close < s.length && s[close] != '}') {
                            close++;
                        }
                        String hex = i + 1 < s.length && s[i + 1] == '{' ? new String(s, i + 2, Math.max(0, close - i - 2)) : "";
                        if (close >= s.length || hex.isEmpty() || hex.length() > 6 || !hex.chars().allMatch(Reader::isHexDigit)) {
                            throw new KdlParseException("a \\u escape needs 1 to 6 hex digits in braces", position(start), start);
                        }
                        int value = Integer.parseInt(hex, 16);
                        if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
                            throw new KdlParseException("\\u escape is not a Unicode scalar value", position(start), start);
                        }
                        sb.appendCodePoint(value);
                        i = close;
                    }
                    default -> {
                        if (e != EOF && (isUnicodeSpace(e) || isV2Newline(e))) {
                            while (i + 1 < s.length && (isUnicodeSpace(s[i + 1]) || isV2Newline(s[i + 1]))) {
                                i++;
                            }
                        } else {
                            throw new KdlParseException(
                                    "invalid escape '\\" + (e == EOF ? "" : Character.toString(e)) + "'",
                                    position(start),
                                    start);
                        }
                    }
                }
            }
            return sb.toString();
        }

        // ---- numbers ----------------------------------------------------------------------------

        private boolean isNumberStart() {
            int c = peek();
            if (isDigit(c)) {
                return true;
            }
            if (c == '+' || c == '-') {
                int d = peekAt(1);
                return isDigit(d) || (v2 && d == '.' && isDigit(peekAt(2)));
            }
            return v2 && c == '.' && isDigit(peekAt(1));
        }

        private KdlValue.Num number(String type, KdlPosition position) throws KdlParseException {
            int start = pos;
            while (pos < cp.length && (v2 ? isV2IdentifierChar(cp[pos]) : isV1IdentifierChar(cp[pos]))) {
                if (!v2 && (startsWith("//") || startsWith("/*"))) {
                    break;
                }
                pos++;
            }
            String token = new String(cp, start, pos - start);
            KdlValue.Num n = parseNumber(token, type, position, v2);
            if (n == null) {
                throw new KdlParseException("invalid number '" + token + "'", position, start);
            }
            return n;
        }

        private static KdlValue.Num parseNumber(String token, String type, KdlPosition position, boolean v2) {
            String sign = "";
            String body = token;
            if (body.startsWith("+") || body.startsWith("-")) {
                sign = body.startsWith("-") ? "-" : "";
                body = body.substring(1);
            }
            int radix = 10;
            String digits;
            if (body.startsWith("0x")) {
                radix = 16;
                digits = body.substring(2);
                if (!digits.matches("[0-9a-fA-F][0-9a-fA-F_]*")) {
                    return null;
                }
            } else if (body.startsWith("0o")) {
                radix = 8;
                digits = body.substring(2);
                if (!digits.matches("[0-7][0-7_]*")) {
                    return null;
                }
            } else if (body.startsWith("0b")) {
                radix = 2;
                digits = body.substring(2);
                if (!digits.matches("[01][01_]*")) {
                    return null;
                }
            } else {
                if (!body.matches(v2 ? "[0-9][0-9_]*(\\.[0-9][0-9_]*)?([eE][+-]?[0-9][0-9_]*)?"
                        : "[0-9][0-9_]*(\\.[0-9]+)?([eE][+-]?[0-9][0-9_]*)?")) {
                    return null;
                }
                String plain = body.replace("_", "");
                if (!plain.contains(".") && !plain.contains("e") && !plain.contains("E")) {
                    return new KdlValue.Num(new BigInteger(sign + plain), 10, null, type, position);
                }
                try {
                    return new KdlValue.Num(new BigDecimal(sign + plain), 10, canonicalDecimal(sign, plain), type, position);
                } catch (NumberFormatException e) {
                    return null; // an exponent beyond what BigDecimal holds (±2^31): "invalid number" at its place
                }
            }
            BigInteger value = new BigInteger(sign + digits.replace("_", ""), radix);
            return new KdlValue.Num(value, radix, null, type, position);
        }

        /** Decimal text as the test suite prints it: mantissa as written, exponent as {@code E±n}. */
        private static String canonicalDecimal(String sign, String plain) {
            int e = Math.max(plain.indexOf('e'), plain.indexOf('E'));
            String mantissa = e < 0 ? plain : plain.substring(0, e);
            int dot = mantissa.indexOf('.');
            String intPart = new BigInteger(dot < 0 ? mantissa : mantissa.substring(0, dot)).toString();
            mantissa = dot < 0 ? intPart : intPart + mantissa.substring(dot);
            if (e < 0) {
                return sign + mantissa;
            }
            String exponent = plain.substring(e + 1);
            if (!exponent.startsWith("-") && !exponent.startsWith("+")) {
                exponent = "+" + exponent;
            }
            return sign + mantissa + "E" + exponent;
        }

        // ---- whitespace and comments ------------------------------------------------------------

        /** Skips whitespace, comments and line continuations within a node; true if any was skipped. */
        private boolean skipNodeSpace() throws KdlParseException {
            int start = pos;
            while (true) {
                int c = peek();
                if (isUnicodeSpace(c) || (!v2 && c == 0xFEFF)) {
                    pos++;
                } else if (startsWith("/*")) {
                    skipBlockComment();
                } else if (c == '\\') {
                    skipEscline();
                } else {
                    return pos > start;
                }
            }
        }

        private void skipEscline() throws KdlParseException {
            pos++; // '\'
            while (true) {
                int c = peek();
                if (isUnicodeSpace(c)) {
                    pos++;
                } else if (startsWith("/*")) {
                    skipBlockComment();
                } else {
                    break;
                }
            }
            if (startsWith("//")) {
                skipLineComment();
            } else if (isNewline(peek())) {
                consumeNewline();
            } else if (!(v2 && peek() == EOF)) {
                throw error("expected a newline after the line continuation '\\'");
            }
        }

        /** Skips whitespace, newlines and comments between nodes. */
        private void skipLineSpace() throws KdlParseException {
            while (true) {
                int c = peek();
                if (isNewline(c)) {
                    consumeNewline();
                } else if (startsWith("//")) {
                    skipLineComment();
                } else if (isUnicodeSpace(c) || startsWith("/*") || (c == 0xFEFF && !v2)) {
                    skipNodeSpace();
                } else if (c == '\\' && v2) {
                    skipEscline();
                } else {
                    return;
                }
            }
        }

        private void skipLineComment() {
            pos += 2;
            while (pos < cp.length && !isNewline(cp[pos])) {
                pos++;
            }
            if (pos < cp.length) {
                consumeNewline();
            }
        }

        private void skipBlockComment() throws KdlParseException {
            int start = pos;
            pos += 2;
            int depth = 1;
            while (depth > 0) {
                if (pos >= cp.length) {
                    throw new KdlParseException("unterminated block comment", position(start), start);
                }
                if (startsWith("/*")) {
                    depth++;
                    pos += 2;
                } else if (startsWith("*/")) {
                    depth--;
                    pos += 2;
                } else {
                    pos++;
                }
            }
        }

        private void consumeNewline() {
            if (cp[pos] == '\r' && pos + 1 < cp.length && cp[pos + 1] == '\n') {
                pos++;
            }
            pos++;
        }

        private void requireDelimiter() throws KdlParseException {
            int c = peek();
            if (c != EOF && isV2IdentifierChar(c)) {
                throw error("unexpected " + quoted(c));
            }
        }

        // ---- characters -------------------------------------------------------------------------

        private boolean isNewline(int c) {
            return v2 ? isV2Newline(c) : isV1Newline(c);
        }

        static boolean isV1Newline(int c) {
            return c == '\n' || c == '\r' || c == 0x85 || c == 0x0C || c == 0x2028 || c == 0x2029;
        }

        static boolean isV2Newline(int c) {
            return isV1Newline(c) || c == 0x0B;
        }

        static boolean isUnicodeSpace(int c) {
            return c == '\t' || c == ' ' || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                    || c == 0x202F || c == 0x205F || c == 0x3000;
        }

        /** Code points KDL 2 forbids anywhere in a document. */
        static boolean isDisallowed(int c) {
            return (c >= 0 && c <= 0x08) || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                    || (c >= 0xD800 && c <= 0xDFFF) || c == 0x200E || c == 0x200F
                    || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
        }

        static boolean isDigit(int c) {
            return c >= '0' && c <= '9';
        }

        static boolean isHexDigit(int c) {
            return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }

        private interface CodePointTest {
            boolean test(int c);
        }

        private String readWhile(CodePointTest test) {
            int start = pos;
            while (pos < cp.length && test.test(cp[pos])) {
                pos++;
            }
            return new String(cp, start, pos - start);
        }

        private int peek() {
            return pos < cp.length ? cp[pos] : EOF;
        }

        /** A code point for an error message; the end of the text is no character (and no code point). */
        private static String quoted(int c) {
            return c == EOF ? "end of input" : "'" + Character.toString(c) + "'";
        }

        private int peekAt(int ahead) {
            int i = pos + ahead;
            return i < cp.length ? cp[i] : EOF;
        }

        private int next() {
            return pos < cp.length ? cp[pos++] : EOF;
        }

        private boolean startsWith(String s) {
            if (pos + s.length() > cp.length) {
                return false;
            }
            for (int i = 0; i < s.length(); i++) {
                if (cp[pos + i] != s.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private int[] lineStarts;

        private KdlPosition position(int offset) {
            if (lineStarts == null) {
                List<Integer> starts = new ArrayList<>();
                starts.add(0);
                for (int i = 0; i < cp.length; i++) {
                    int c = cp[i];
                    if (isNewline(c) && !(c == '\r' && i + 1 < cp.length && cp[i + 1] == '\n')) {
                        starts.add(i + 1);
                    }
                }
                lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
            }
            int index = java.util.Arrays.binarySearch(lineStarts, offset);
            int line = index >= 0 ? index : -index - 2;
            return new KdlPosition(line + 1, offset - lineStarts[line] + 1);
        }

        private KdlParseException error(String reason) {
            return new KdlParseException(reason, position(pos), pos);
        }
    }
}
