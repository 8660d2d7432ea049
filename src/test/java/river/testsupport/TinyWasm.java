package river.testsupport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-assembled WebAssembly modules for configuration tests, which need a valid file but never run it. */
public final class TinyWasm {
    private TinyWasm() {}

    /** The smallest module exporting one empty function named {@code export} and a memory named "memory". */
    public static byte[] module(String export) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0});
        out.writeBytes(new byte[] {1, 4, 1, 0x60, 0, 0}); // types: () -> ()
        out.writeBytes(new byte[] {3, 2, 1, 0}); // one function of type 0
        out.writeBytes(new byte[] {5, 3, 1, 0, 1}); // one memory of one page
        byte[] name = export.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream exports = new ByteArrayOutputStream();
        exports.write(2);
        exports.write(name.length);
        exports.writeBytes(name);
        exports.writeBytes(new byte[] {0, 0});
        exports.write(6);
        exports.writeBytes("memory".getBytes(StandardCharsets.US_ASCII));
        exports.writeBytes(new byte[] {2, 0});
        out.write(7);
        out.write(exports.size());
        out.writeBytes(exports.toByteArray());
        out.writeBytes(new byte[] {10, 4, 1, 2, 0, 0x0b}); // its body: end
        return out.toByteArray();
    }
}
