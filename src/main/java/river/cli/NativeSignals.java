package river.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The JNI half of {@link Signals} (src/main/c/river_signals.c): handlers that write to a pipe. */
final class NativeSignals {
    private NativeSignals() {}

    static native int open0();

    static native int handle0(int signal);

    static native int next0();

    /** Loads the library built for this machine's architecture from the jar; false when there is none. */
    static boolean load() {
        String name = "libriver-signals-" + System.getProperty("os.arch") + ".so";
        try (InputStream in = NativeSignals.class.getResourceAsStream(name)) {
            if (in == null) {
                return false;
            }
            Path file = Files.createTempFile("river-signals", ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toString());
            } finally {
                // Mapped once loaded: the file itself is no longer needed.
                Files.deleteIfExists(file);
            }
            return open0() == 0;
        } catch (IOException | UnsatisfiedLinkError e) {
            return false;
        }
    }
}
