package river.acme;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs River 0.8's DNS-01 hook: {@code hook set|clean NAME VALUE}, 120 seconds at most, exit status 0 for
 * success; what it writes to standard error is logged (its first 16 KiB), standard output is discarded.
 * Blocking: run on the ACME thread.
 */
final class DnsHook {
    private static final Logger LOG = LoggerFactory.getLogger(DnsHook.class);
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final int MAX_LOGGED_BYTES = 16 * 1024;

    private final Duration timeout;

    DnsHook() {
        this(TIMEOUT);
    }

    DnsHook(Duration timeout) {
        this.timeout = timeout;
    }

    void run(Path hook, String action, String name, String value) throws IOException, InterruptedException {
        Path stderr = Files.createTempFile("river-dns-hook", ".stderr");
        try {
            Process process = new ProcessBuilder(hook.toString(), action, name, value).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
            boolean finished;
            try {
                finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                // The order is abandoned (its ACME client stops): the hook goes with it rather than outliving River.
                kill(process);
                LOG.info("ACME: DNS hook {} {} {} killed: its order was abandoned", hook, action, name);
                throw e;
            }
            if (!finished) {
                kill(process);
                process.waitFor(5, TimeUnit.SECONDS);
            }
            String errors = head(stderr);
            if (!errors.isBlank()) {
                LOG.info("ACME: DNS hook {} {} {}: stderr: {}", hook, action, name, errors.strip());
            }
            if (!finished) {
                throw new IOException("DNS hook " + hook + " " + action + " " + name + " did not finish in " + timeout.toSeconds() + " s (killed)");
            }
            if (process.exitValue() != 0) {
                throw new IOException("DNS hook " + hook + " " + action + " " + name + " exited with status " + process.exitValue()
                        + (errors.isBlank() ? "" : ": " + errors.strip()));
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private static String head(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_LOGGED_BYTES), StandardCharsets.UTF_8);
        }
    }
}
