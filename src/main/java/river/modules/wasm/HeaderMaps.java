package river.modules.wasm;

import com.dylibso.chicory.runtime.Memory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Header maps 0–3 read from Netty's headers straight into one VM's memory, without building the map:
 * a single header is looked up case-insensitively through a view of its name where the plugin wrote
 * it, and a map's pairs are encoded in the ABI's layout into one buffer the VM reuses, then copied in
 * once. Per call, nothing is allocated but the block the plugin's allocator gives (docs/performance.md).
 * Owned by its VM's thread, like the VM.
 */
final class HeaderMaps {
    /** The largest encoding buffer kept between calls; a bigger map gets a buffer of its own for that call. */
    private static final int MAX_KEPT_BYTES = 64 * 1024;

    private final PluginVm vm;
    private final Name name = new Name();
    private byte[] scratch = new byte[1024];

    HeaderMaps(PluginVm vm) {
        this.vm = vm;
    }

    /**
     * {@code proxy_get_header_map_value} on {@code headers} (the map of {@code type} of {@code s}):
     * NotFound when absent, else the value in a block of the plugin's.
     */
    int value(boolean request, boolean response, HttpHeaders headers, PluginVm.Stream s, long namePtr, long nameSize, long ptrPtr, long sizePtr) {
        Name n = name(namePtr, nameSize);
        if (n == null) {
            return PluginVm.INVALID_MEMORY_ACCESS;
        }
        CharSequence value;
        if (n.length > 0 && n.charAt(0) == ':') {
            value = pseudo(request, response, headers, s, n);
        } else {
            value = headers.get(n); // Netty's lookup is case-insensitive: the name needs no lower-casing
        }
        if (value == null) {
            return PluginVm.NOT_FOUND;
        }
        int length = put(0, value, false);
        int code = vm.give(scratch, length, ptrPtr, sizePtr);
        shrink();
        return code;
    }

    /** {@code proxy_get_header_map_pairs}: the map encoded into a block of the plugin's. */
    int pairs(boolean request, boolean response, HttpHeaders headers, PluginVm.Stream s, long ptrPtr, long sizePtr) {
        int length = encode(request, response, headers, s);
        int code = vm.give(scratch, length, ptrPtr, sizePtr);
        shrink();
        return code;
    }

    /** {@code proxy_get_header_map_size}: the size of the map's encoding. */
    int size(boolean request, boolean response, HttpHeaders headers, PluginVm.Stream s, long sizePtr) {
        int length = encode(request, response, headers, s);
        shrink();
        vm.writeI32(sizePtr, length);
        return PluginVm.OK;
    }

    /** A header name the plugin wrote, viewed in place (null when outside its memory); valid until the next call. */
    Name name(long ptr, long size) {
        Memory memory = vm.memory();
        if (ptr < 0 || size < 0 || ptr + size > (long) memory.pages() * Memory.PAGE_SIZE) {
            return null;
        }
        name.memory = memory;
        name.at = (int) ptr;
        name.length = (int) size;
        return name;
    }

    /** A name or value the plugin wrote, copied once: an {@link AsciiString} when it is ASCII, else its UTF-8 text. */
    CharSequence text(long ptr, long size, boolean lowerCase) {
        byte[] bytes = vm.bytes(ptr, size);
        for (byte b : bytes) {
            if (b < 0) {
                String s = new String(bytes, StandardCharsets.UTF_8);
                return lowerCase ? s.toLowerCase(Locale.ROOT) : s;
            }
        }
        AsciiString s = new AsciiString(bytes, false);
        return lowerCase ? s.toLowerCase() : s;
    }

    private static CharSequence pseudo(boolean request, boolean response, HttpHeaders headers, PluginVm.Stream s, Name n) {
        if (request) {
            if (n.is(":method")) {
                return s.ctx.request().method().name();
            }
            if (n.is(":path")) {
                return s.ctx.request().uri();
            }
            if (n.is(":authority")) {
                return headers.get(HttpHeaderNames.HOST);
            }
            if (n.is(":scheme")) {
                return s.ctx.secure() ? "https" : "http";
            }
        } else if (response && n.is(":status")) {
            return s.response.status().codeAsText();
        }
        return null;
    }

    /**
     * The ABI's map encoding into {@link #scratch} (count, each key's and value's size, then each key
     * and value NUL-terminated, little-endian; pseudo-headers first, names in lower case): its length.
     */
    private int encode(boolean request, boolean response, HttpHeaders headers, PluginVm.Stream s) {
        String host = request ? headers.get(HttpHeaderNames.HOST) : null;
        int pseudo = request ? (host == null ? 3 : 4) : response ? 1 : 0;
        int count = pseudo;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); it.next()) {
            count++;
        }
        int sizes = 4;
        int at = 4 + 8 * count;
        ensure(at);
        writeInt(0, count);
        if (request) {
            at = pair(sizes, at, ":method", s.ctx.request().method().name());
            at = pair(sizes += 8, at, ":path", s.ctx.request().uri());
            if (host != null) {
                at = pair(sizes += 8, at, ":authority", host);
            }
            at = pair(sizes += 8, at, ":scheme", s.ctx.secure() ? "https" : "http");
            sizes += 8;
        } else if (response) {
            at = pair(sizes, at, ":status", s.response.status().codeAsText());
            sizes += 8;
        }
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); sizes += 8) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            int key = at;
            at = put(at, e.getKey(), true);
            writeInt(sizes, at - key);
            ensure(at + 1);
            scratch[at++] = 0;
            int value = at;
            at = put(at, e.getValue(), false);
            writeInt(sizes + 4, at - value);
            ensure(at + 1);
            scratch[at++] = 0;
        }
        return at;
    }

    private int pair(int sizes, int at, String key, CharSequence value) {
        int start = at;
        at = put(at, key, false);
        writeInt(sizes, at - start);
        ensure(at + 1);
        scratch[at++] = 0;
        start = at;
        at = put(at, value, false);
        writeInt(sizes + 4, at - start);
        ensure(at + 1);
        scratch[at++] = 0;
        return at;
    }

    /** Writes {@code text}'s UTF-8 bytes (lower-cased ASCII letters for a name) at {@code at}; returns the end. */
    private int put(int at, CharSequence text, boolean lowerCase) {
        int n = text.length();
        ensure(at + n);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                return putUtf8(at, text.subSequence(i, n).toString(), lowerCase);
            }
            scratch[at++] = (byte) (lowerCase && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        return at;
    }

    private int putUtf8(int at, String rest, boolean lowerCase) {
        byte[] bytes = (lowerCase ? rest.toLowerCase(Locale.ROOT) : rest).getBytes(StandardCharsets.UTF_8);
        ensure(at + bytes.length);
        System.arraycopy(bytes, 0, scratch, at, bytes.length);
        return at + bytes.length;
    }

    private void writeInt(int at, int v) {
        scratch[at] = (byte) v;
        scratch[at + 1] = (byte) (v >>> 8);
        scratch[at + 2] = (byte) (v >>> 16);
        scratch[at + 3] = (byte) (v >>> 24);
    }

    private void ensure(int capacity) {
        if (capacity > scratch.length) {
            scratch = java.util.Arrays.copyOf(scratch, Math.max(capacity, scratch.length * 2));
        }
    }

    /** A buffer grown past what is kept goes after the call that needed it. */
    private void shrink() {
        if (scratch.length > MAX_KEPT_BYTES) {
            scratch = new byte[1024];
        }
    }

    /** Bytes of the plugin's memory seen as Latin-1 characters, in place: what Netty's case-insensitive header lookups need. */
    static final class Name implements CharSequence {
        private Memory memory;
        private int at;
        private int length;

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) (memory.read(at + index) & 0xff);
        }

        boolean is(String ascii) {
            if (ascii.length() != length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                char c = charAt(i);
                if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != ascii.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString().substring(start, end);
        }

        @Override
        public String toString() {
            return new String(memory.readBytes(at, length), StandardCharsets.UTF_8);
        }
    }
}
