package river.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** This JVM's open descriptors, read from {@code /proc/self/fd}. */
public final class OpenDescriptors {
    private OpenDescriptors() {}

    /** How many descriptors of this JVM are open on the file, also once it is deleted. */
    public static long on(Path file) throws IOException {
        Path real = file.getParent().toRealPath().resolve(file.getFileName());
        Path deleted = Path.of(real + " (deleted)");
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    return target.equals(real) || target.equals(deleted);
                } catch (IOException e) {
                    return false; // closed meanwhile, or the listing's own descriptor
                }
            }).count();
        }
    }

    /** {@link #on}, for conditions that may not throw. */
    public static long onQuietly(Path file) {
        try {
            return on(file);
        } catch (IOException e) {
            return -1;
        }
    }
}
