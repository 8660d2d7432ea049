package river.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.admin.AdminServer;
import river.config.AdminConfig;
import river.config.RiverConfig;
import river.config.SystemConfig;
import river.server.InheritedListeners;
import river.server.ListenerHandover;
import river.service.RiverServer;

/**
 * Starts the configured services and runs until a signal: SIGTERM stops accepting, lets in-flight
 * requests finish within the grace period and exits 0; SIGQUIT hands the listeners to a new instance
 * waiting on the upgrade socket, then drains the same way; SIGINT exits at once; SIGHUP reloads the
 * configuration in place. With {@code --upgrade}, River first waits on the upgrade socket for the
 * running instance's listeners.
 */
final class Launcher {
    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

    private Launcher() {}

    static int start(RiverConfig config, LaunchSettings settings, PrintStream out, PrintStream err) {
        SystemConfig system = config.system();
        // Daemon mode, pid file, systemd (issue 14, items 4-5): the logic is in Daemon and Readiness.
        if (system.daemonize() && !Daemon.isBackgroundProcess()) {
            return Daemon.startInBackground(settings.logFile(),
                    Duration.ofSeconds(settings.upgrade() ? system.lifecycle().upgradeTimeoutSeconds() : 0), err);
        }
        List<InheritedListeners.Inherited> activated;
        try {
            activated = Readiness.beforeStart(system, settings.upgrade(), System.getenv());
        } catch (java.io.IOException e) {
            err.println("river: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        if (settings.upgrade() && system.upgradeSocket().isEmpty()) {
            err.println("river: --upgrade needs --upgrade-socket PATH (or upgrade-socket in the system block)");
            return Main.USAGE;
        }
        // Services are built before any listener: an upgrade builds them before it waits for the running
        // instance, so the hand-over is held up by nothing but binding.
        try {
            // Before anything logs from a service: where the log goes, its format and its levels.
            river.service.LogWiring.applyApplicationLog(system.observability().logs());
        } catch (RuntimeException e) {
            err.println("river: could not set up the log: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        RiverServer server;
        try {
            server = RiverServer.prepare(config);
        } catch (Exception e) {
            err.println("river: could not start: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        Optional<ListenerHandover.Receipt> receipt = Optional.empty();
        if (settings.upgrade()) {
            Path socket = system.upgradeSocket().get();
            int waitSeconds = system.lifecycle().upgradeTimeoutSeconds();
            try {
                receipt = Optional.of(ListenerHandover.receive(socket, Duration.ofSeconds(waitSeconds)));
            } catch (TimeoutException e) {
                server.close();
                err.println("river: upgrade: no running River handed over its listeners on " + socket + " within " + waitSeconds + " s");
                return Main.INVALID_CONFIG;
            } catch (Exception e) {
                server.close();
                err.println("river: upgrade: " + e.getMessage());
                return Main.INVALID_CONFIG;
            }
            LOG.info("upgrade: received {} listening socket(s): {}", receipt.get().sockets().size(), receipt.get().sockets());
            List<String> newKeys = server.adoptTicketKeys(receipt.get().ticketKeys());
            if (!newKeys.isEmpty()) {
                // Once per upgrade: the running River predates the hand-over of keys, or sent none for these.
                LOG.warn("upgrade: no TLS session ticket keys handed over for service(s) {}: they start with new keys, "
                        + "so tickets issued before the upgrade take a full handshake", newKeys);
            } else if (!receipt.get().ticketKeys().isEmpty()) {
                LOG.info("upgrade: took over the TLS session ticket keys of {} service(s)", receipt.get().ticketKeys().size());
            }
        }
        List<InheritedListeners.Inherited> handedOver = receipt.map(ListenerHandover.Receipt::sockets).orElse(List.of());
        InheritedListeners inherited = InheritedListeners.of(
                java.util.stream.Stream.concat(handedOver.stream(), activated.stream()).toList());
        // The admin listener's socket is handed over (or passed by systemd) like the services' ones.
        AdminConfig adminConfig = system.observability().admin();
        InheritedListeners adminInherited = adminConfig.enabled() ? inherited.claimFor(adminConfig.listen()) : InheritedListeners.none();
        try {
            server.listen(inherited);
        } catch (Exception e) {
            receipt.ifPresent(r -> r.failed(e.getMessage()));
            err.println("river: could not start: " + e.getMessage());
            return Main.INVALID_CONFIG;
        }
        // SIGHUP and POST /reload: in-place reload of the same file; the JVM runs from the directory Main resolves against.
        ReloadSignal reloads = ReloadSignal.create(server, settings, Path.of("").toAbsolutePath());
        Optional<AdminServer> admin = Optional.empty();
        if (adminConfig.enabled()) {
            try {
                admin = Optional.of(AdminServer.start(adminConfig, server, reloads::reload, adminInherited));
            } catch (Exception e) {
                receipt.ifPresent(r -> r.failed(e.getMessage()));
                server.close();
                err.println("river: could not start: " + e.getMessage());
                return Main.INVALID_CONFIG;
            }
        }
        receipt.ifPresent(r -> r.serving(inherited.claimed()));
        LOG.info("River started: {} service(s) on {} transport, {} thread(s) each",
                config.services().size(), server.transportName(), system.threadsPerService());
        reloads.onSighup();
        Optional<AdminServer> adminListener = admin;
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Duration grace = Duration.ofSeconds(system.gracePeriodSeconds());
        Signals.on("TERM", () -> {
            if (stopping.compareAndSet(false, true)) {
                new Thread(() -> {
                    LOG.info("SIGTERM: draining in-flight requests (grace period {} s)", grace.toSeconds());
                    Readiness.stopping();
                    server.shutdownGracefully(grace);
                    LOG.info("stopped");
                    stopped.countDown();
                }, "river-shutdown").start();
            }
        });
        Signals.on("INT", () -> {
            LOG.info("SIGINT: exiting now");
            Runtime.getRuntime().halt(130);
        });
        handleQuit(system.upgradeSocket().isPresent(), () -> {
            if (system.upgradeSocket().isEmpty()) {
                LOG.warn("SIGQUIT: no upgrade-socket is configured; nothing to hand over to, still serving");
                return;
            }
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            new Thread(() -> {
                if (upgradeTo(server, adminListener, system)) {
                    stopped.countDown();
                } else {
                    stopping.set(false);
                }
            }, "river-upgrade").start();
        });
        try {
            Readiness.serving(system); // pid file, READY=1, --daemonize's foreground: once the signals are River's
        } catch (java.io.IOException e) {
            err.println("river: could not write the pid file: " + e.getMessage());
            if (receipt.isEmpty()) {
                return Main.INVALID_CONFIG;
            } // after an upgrade the old instance is draining already: serve on without the file
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Open through the drain (GET /ready says River is stopping); closed once it is over.
        adminListener.ifPresent(AdminServer::close);
        return Main.OK;
    }

    /**
     * SIGQUIT: hands every listener to the instance waiting on the upgrade socket; once it serves, stops
     * accepting and drains. Returns false, still serving, when the new instance is not there or fails.
     */
    private static boolean upgradeTo(RiverServer server, Optional<AdminServer> admin, SystemConfig system) {
        Path socket = system.upgradeSocket().get();
        Duration wait = Duration.ofSeconds(system.lifecycle().upgradeTimeoutSeconds());
        List<io.netty.channel.Channel> listeners = new java.util.ArrayList<>(server.listeningChannels());
        admin.ifPresent(a -> listeners.add(a.listener()));
        LOG.info("SIGQUIT: handing {} listener(s) over on {}", listeners.size(), socket);
        ListenerHandover.Outcome outcome;
        try {
            outcome = ListenerHandover.send(socket, listeners, server.ticketKeys(), wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        server.countUpgrade(outcome.serving());
        if (!outcome.serving()) {
            LOG.error("upgrade failed: {}; still serving", outcome.reason());
            return false;
        }
        admin.ifPresent(a -> a.handOver(outcome.adopted()));
        server.handOver(outcome.adopted().stream().filter(ch -> admin.map(a -> a.listener() != ch).orElse(true)).toList());
        Duration grace = Duration.ofSeconds(system.gracePeriodSeconds());
        LOG.info("upgrade: the new instance serves on {} adopted listener(s); draining (grace period {} s)",
                outcome.adopted().size(), grace.toSeconds());
        server.shutdownGracefully(grace, Duration.ofMillis(system.lifecycle().closeSpreadMs()));
        LOG.info("stopped after the upgrade");
        return true;
    }

    /**
     * The JVM takes SIGQUIT for its thread dumps unless started with {@code -Xrs} (bin/river does): without
     * it River cannot be upgraded by signal, and says so once at start.
     */
    private static void handleQuit(boolean upgradeConfigured, Runnable onQuit) {
        if (!Signals.on("QUIT", onQuit)) {
            String text = "SIGQUIT is the JVM's (thread dumps): start River with -Xrs, as bin/river does, to upgrade it with SIGQUIT";
            if (upgradeConfigured) {
                LOG.warn(text);
            } else {
                LOG.debug(text);
            }
        }
    }
}
