package river.cli;

import java.io.IOException;
import java.util.List;
import river.config.SystemConfig;
import river.server.InheritedListeners;

/**
 * What River tells the world about its life, in one place for every way it starts (plain, in the
 * background, under systemd, as the new instance of an upgrade): before it binds, whether it may
 * start at all (a live pid file) and which sockets systemd passed; once it serves, the pid file,
 * systemd's READY=1 and the foreground process of {@code --daemonize}; when it stops, STOPPING=1.
 */
final class Readiness {
    private Readiness() {}

    /**
     * Before anything is bound: refuses a second instance (a live pid file; an upgrade replaces the
     * live one on purpose, so it skips the check) and returns the listeners systemd passed, if any.
     */
    static List<InheritedListeners.Inherited> beforeStart(SystemConfig system, boolean upgrade, java.util.Map<String, String> env)
            throws IOException {
        if (system.pidFile().isPresent() && !upgrade) {
            PidFile.refuseLive(system.pidFile().get());
        }
        return SocketActivation.listeners(env);
    }

    /**
     * River serves on every listener: writes the pid file (replacing the old instance's after an
     * upgrade), tells systemd READY=1 with MAINPID, and lets the foreground process of
     * {@code --daemonize} exit 0. Every start path calls it once, after its listeners are bound and its signal handlers installed
     * (so a SIGTERM sent the moment the pid file appears drains rather than kills).
     */
    static void serving(SystemConfig system) throws IOException {
        if (system.pidFile().isPresent()) {
            PidFile.writeServing(system.pidFile().get());
        }
        SystemdNotify.ready();
        Daemon.serving();
    }

    /** River has begun to drain and will exit: systemd's STOPPING=1. */
    static void stopping() {
        SystemdNotify.stopping();
    }
}
