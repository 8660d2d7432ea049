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
        return awaitAnyContains(java.util.List.of(file), text, alive, 30) == 0;
    }

    /**
     * The index of the first of {@code files} found to contain {@code text} (the files may be in different directories);
     * -1 if {@code alive} turns false or {@code seconds} pass.
     */
    public static int awaitAnyContains(java.util.List<Path> files, String text, BooleanSupplier alive, int seconds)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            for (Path dir : files.stream().map(f -> f.toAbsolutePath().getParent()).distinct().toList()) {
                dir.register(watch, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
            }
            while (true) {
                for (int i = 0; i < files.size(); i++) {
                    if (Files.exists(files.get(i)) && Files.readString(files.get(i)).contains(text)) {
                        return i;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !alive.getAsBoolean()) {
                    return -1;
                }
                // Woken by the next write to a watched directory; the bound only re-checks that the processes live.
                var key = watch.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }
}
