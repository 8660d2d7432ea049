package river.cli;

import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import river.config.ConfigLoader;
import river.service.RiverServer;

/**
 * SIGHUP reloads the configuration in place: the file River started with is read again, with the same
 * command-line and environment overrides, and {@link RiverServer#reload} swaps it in or reports why it
 * cannot (the server logs the outcome), telling systemd it is reloading meanwhile. Reloads run one at
 * a time on their own thread, so a burst of signals queues rather than overlaps.
 */
final class ReloadSignal {
    private ReloadSignal() {}

    static void install(RiverServer server, LaunchSettings settings, Path workingDirectory) {
        ConfigLoader loader = new ConfigLoader(workingDirectory);
        ExecutorService reloads = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "river-reload");
            t.setDaemon(true);
            return t;
        });
        Signals.on("HUP", () -> reloads.execute(() -> {
            // systemd (Type=notify): RELOADING=1 now, READY=1 again once it is over, whatever the outcome.
            SystemdNotify.reloading();
            try {
                server.reload(() -> loader.load(settings.configFile(), settings.format(), settings.overrides()));
            } finally {
                SystemdNotify.ready();
            }
        }));
    }
}
