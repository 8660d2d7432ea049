package river.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * River's pid file: checked before River binds anything (a live process named in it refuses a second
 * instance, a dead one is stale and replaced), written atomically once River serves (a reader never
 * sees a half-written file), and removed on a clean exit only while it still names this process, so
 * the old instance of an upgrade, exiting after the new one wrote its pid, leaves the new pid in place.
 */
final class PidFile {
    private static final Logger LOG = LoggerFactory.getLogger(PidFile.class);

    private PidFile() {}

    /**
     * Refuses to start when the file names a live process other than this one; says so when it is
     * stale. An upgrade skips this check: the old instance is alive by design, and is replaced.
     */
    static void refuseLive(Path path) throws IOException {
        Optional<Long> pid = read(path);
        if (pid.isEmpty() || pid.get() == self()) {
            return;
        }
        if (ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IOException("River is already running: pid file " + path + " names process " + pid.get()
                    + ", which is alive; stop it first (or use --upgrade to replace it), or remove the file if that process is not River");
        }
        LOG.info("pid file {} is stale (process {} is not running): it will be replaced", path, pid.get());
    }

    /**
     * Writes this process's pid: to a temporary file in the same directory, then renamed over the
     * path, so the file always holds a whole pid. Registers its removal at exit.
     */
    static void writeServing(Path path) throws IOException {
        Path temp = path.resolveSibling("." + path.getFileName() + "." + self() + ".tmp");
        try {
            Files.writeString(temp, self() + "\n", StandardCharsets.US_ASCII);
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> release(path), "river-pid-file"));
        LOG.info("pid file {} written (pid {})", path, self());
    }

    /** Removes the file if it still names this process (a newer instance may have replaced it). */
    static boolean release(Path path) {
        try {
            if (read(path).filter(pid -> pid == self()).isPresent()) {
                Files.delete(path);
                return true;
            }
        } catch (IOException e) {
            LOG.warn("could not remove pid file {}: {}", path, e.toString());
        }
        return false;
    }

    /** The pid the file names; empty when there is no file or it holds no pid (then it is replaced). */
    static Optional<Long> read(Path path) throws IOException {
        String text;
        try (java.io.InputStream in = Files.newInputStream(path)) {
            // A pid is a few digits: read no more than that much of whatever the file holds.
            text = new String(in.readNBytes(64), StandardCharsets.ISO_8859_1).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(text);
            return pid > 0 ? Optional.of(pid) : Optional.empty();
        } catch (NumberFormatException e) {
            LOG.warn("pid file {} holds no pid (\"{}\"): it will be replaced", path, text.length() > 40 ? text.substring(0, 40) + "…" : text);
            return Optional.empty();
        }
    }

    private static long self() {
        return ProcessHandle.current().pid();
    }
}
