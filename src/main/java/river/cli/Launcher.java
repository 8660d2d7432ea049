package river.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.RiverConfig;
import river.service.RiverServer;
import sun.misc.Signal;

/**
 * Starts the configured services and runs until a signal: SIGTERM stops accepting, lets in-flight
 * requests finish within the grace period and exits 0; SIGINT exits at once.
 */
final class Launcher {
    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

    private Launcher() {}

    static int start(RiverConfig config, LaunchSettings settings, PrintStream out, PrintStream err) {
        if (settings.upgrade()) {
            err.println("river: --upgrade (listener hand-over) is not available yet");
            return Main.USAGE;
        }
        // Daemon mode, pid file, systemd (issue 14, items 4-5): the logic is in Daemon and Readiness.
        if (config.system().daemonize() && !Daemon.isBackgroundProcess()) {
            return Daemon.startInBackground(settings.logFile(), err);
        }
        java.util.List<river.server.InheritedListeners.Inherited> activated;
        try {
            activated = Readiness.beforeStart(config.system(), settings.upgrade(), System.getenv());
        } catch (java.io.IOException e) {
            err.println("river: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        RiverServer server;
        try {
            server = RiverServer.start(config, river.server.InheritedListeners.of(activated));
        } catch (Exception e) {
            err.println("river: could not start: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        LOG.info("River started: {} service(s) on {} transport, {} thread(s) each",
                config.services().size(), server.transportName(), config.system().threadsPerService());
        try {
            Readiness.serving(config.system());
        } catch (java.io.IOException e) {
            err.println("river: could not write the pid file: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Duration grace = Duration.ofSeconds(config.system().gracePeriodSeconds());
        Signal.handle(new Signal("TERM"), s -> new Thread(() -> {
            LOG.info("SIGTERM: draining in-flight requests (grace period {} s)", grace.toSeconds());
            Readiness.stopping();
            server.shutdownGracefully(grace);
            LOG.info("stopped");
            stopped.countDown();
        }, "river-shutdown").start());
        Signal.handle(new Signal("INT"), s -> {
            LOG.info("SIGINT: exiting now");
            Runtime.getRuntime().halt(130);
        });
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Main.OK;
    }
}
