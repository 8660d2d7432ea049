package river.testsupport;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waits for a child process's output file to contain a text: woken by the file system's change
 * events (inotify) rather than by sleeping, bounded by a deadline and by the process staying alive.
 */
public final class FileWait {
    private FileWait() {}

    /** Returns true once {@code file} contains {@code text}; false if {@code alive} turns false or 30 s pass. */
    public static boolean awaitContains(Path file, String text, BooleanSupplier alive) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            file.toAbsolutePath().getParent().register(watch, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
            while (!(Files.exists(file) && Files.readString(file).contains(text))) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !alive.getAsBoolean()) {
                    return false;
                }
                // Woken by the next write to the directory; the bound only re-checks that the process lives.
                var key = watch.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
            return true;
        }
    }
}
