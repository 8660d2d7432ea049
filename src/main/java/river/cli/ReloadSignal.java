package river.cli;

import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.ConfigLoader;
import river.service.ReloadOutcome;
import river.service.RiverServer;

/**
 * SIGHUP (and the admin listener's {@code POST /reload}) reloads the configuration in place: the file
 * River started with is read again, with the same command-line and environment overrides, and
 * {@link RiverServer#reload} swaps it in or reports why it cannot (the server logs the outcome),
 * telling systemd it is reloading meanwhile. Reloads run one at a time on their own thread, so a
 * burst of signals queues rather than overlaps; at most {@link #MAX_QUEUED} wait, a reload asked
 * for beyond that is refused.
 */
final class ReloadSignal {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadSignal.class);
    /** Reloads that may wait behind the one running. */
    static final int MAX_QUEUED = 16;

    private final RiverServer server;
    private final RiverServer.ConfigSource source;
    private final ThreadPoolExecutor reloads;

    private ReloadSignal(RiverServer server, RiverServer.ConfigSource source) {
        this.server = server;
        this.source = source;
        this.reloads = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(MAX_QUEUED), r -> {
            Thread t = new Thread(r, "river-reload");
            t.setDaemon(true);
            return t;
        });
    }

    /** The reload queue of the file River started with, with the same overrides; {@link #onSighup} hooks it to SIGHUP. */
    static ReloadSignal create(RiverServer server, LaunchSettings settings, Path workingDirectory) {
        ConfigLoader loader = new ConfigLoader(workingDirectory);
        return new ReloadSignal(server, () -> loader.load(settings.configFile(), settings.format(), settings.overrides()));
    }

    /** Reloads on SIGHUP from now on. */
    void onSighup() {
        Signals.on("HUP", () -> reload().whenComplete((outcome, failure) -> {
            if (failure != null) {
                LOG.warn("SIGHUP: reload not done: {}", failure.getMessage());
            }
        }));
    }

    /**
     * Queues a reload of the file River started with; the future completes with its outcome once it has
     * run, or fails with {@link RejectedExecutionException} when {@link #MAX_QUEUED} reloads already wait.
     */
    CompletableFuture<ReloadOutcome> reload() {
        CompletableFuture<ReloadOutcome> outcome = new CompletableFuture<>();
        try {
            reloads.execute(() -> {
                // systemd (Type=notify): RELOADING=1 now, READY=1 again once it is over, whatever the outcome.
                SystemdNotify.reloading();
                try {
                    outcome.complete(server.reload(source));
                } catch (RuntimeException e) {
                    outcome.completeExceptionally(e);
                } finally {
                    SystemdNotify.ready();
                }
            });
        } catch (RejectedExecutionException e) {
            outcome.completeExceptionally(new RejectedExecutionException(MAX_QUEUED + " reloads are already waiting", e));
        }
        return outcome;
    }
}
