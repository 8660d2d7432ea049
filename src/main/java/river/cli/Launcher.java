package river.cli;

import java.io.PrintStream;
import river.config.RiverConfig;

/** Starts the configured services. */
final class Launcher {
    private Launcher() {}

    static int start(RiverConfig config, LaunchSettings settings, PrintStream out, PrintStream err) {
        err.println("river: serving is not available yet; use --validate-configs");
        return Main.INVALID_CONFIG;
    }
}
