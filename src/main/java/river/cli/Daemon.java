package river.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code --daemonize}. A JVM cannot fork, so River starts itself again, detached: the same java
 * binary, JVM options, jar (or class path) and arguments (less {@code --daemonize}), under
 * {@code setsid} so it leads a session of its own with no terminal, with standard input from
 * /dev/null and standard output to the log file. Until it serves, the background process's standard
 * error is a pipe to the foreground one, which repeats every line and exits 0 when the background
 * process says it serves, or 1 when it exits first (its error has been repeated) or does not serve
 * within {@link #STARTUP_TIMEOUT} (plus, for {@code --upgrade}, the wait for the old instance). Once serving, the background process sends its diagnostics to the
 * log file too.
 */
final class Daemon {
    /** Set in the background process's environment to the log file: it is the daemon, and must not start another. */
    static final String CHILD_MARKER = "RIVER_DAEMON_CHILD";
    /** The line the background process writes to the pipe when it serves; the pid follows. */
    static final String SERVING_LINE = "river: serving in the background, pid ";
    static final Path DEFAULT_LOG_FILE = Path.of("/dev/null");
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);

    private static volatile List<String> arguments = List.of();

    private Daemon() {}

    /** The command-line arguments River was started with (the background process gets them again). */
    static void rememberArguments(String[] args) {
        arguments = List.of(args);
    }

    /** Whether this process is the background process a {@code --daemonize} start made. */
    static boolean isBackgroundProcess() {
        return System.getenv(CHILD_MARKER) != null;
    }

    /**
     * The foreground half: starts the background process and waits until it serves. Returns the exit
     * status of the foreground process.
     */
    static int startInBackground(Path logFile, Duration extraWait, PrintStream err) {
        if (SocketActivation.passedTo(System.getenv(), ProcessHandle.current().pid())) {
            err.println("river: --daemonize with socket activation: systemd already runs River in the background;"
                    + " use Type=notify without --daemonize");
            return Main.INVALID_CONFIG;
        }
        Process child;
        try {
            ProcessBuilder builder = new ProcessBuilder(command())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectError(ProcessBuilder.Redirect.PIPE);
            Map<String, String> env = builder.environment();
            // Descriptors systemd passed are not inherited (Java closes them in a child), nor is the
            // notify socket its own; the JVM options of JDK_JAVA_OPTIONS are already on the command.
            SocketActivation.VARIABLES.forEach(env::remove);
            env.remove(SystemdNotify.NOTIFY_SOCKET);
            env.remove("JDK_JAVA_OPTIONS");
            env.put(CHILD_MARKER, logFile.toAbsolutePath().toString());
            child = builder.start();
        } catch (IOException e) {
            err.println("river: could not start in the background: " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("setsid") ? " (setsid is part of util-linux)" : ""));
            return Main.INVALID_CONFIG;
        }
        CompletableFuture<Long> serving = new CompletableFuture<>();
        Thread relay = new Thread(() -> relay(child, err, serving), "river-daemon-relay");
        relay.setDaemon(true);
        relay.start();
        long pid;
        try {
            pid = serving.get(STARTUP_TIMEOUT.plus(extraWait).toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            child.destroy();
            err.println("river: the background process (pid " + child.pid() + ") did not serve within "
                    + STARTUP_TIMEOUT.plus(extraWait).toSeconds() + " s: stopped");
            return Main.INVALID_CONFIG;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.INVALID_CONFIG;
        } catch (ExecutionException e) {
            err.println("river: " + e.getCause().getMessage());
            return Main.INVALID_CONFIG;
        }
        if (pid < 0) {
            int status = exitStatus(child);
            err.println("river: the background process exited" + (status >= 0 ? " with status " + status : "") + " before serving");
            return Main.INVALID_CONFIG;
        }
        err.println(SERVING_LINE + pid);
        return Main.OK;
    }

    /** Repeats the background process's lines until it serves (its pid) or closes the pipe (-1). */
    private static void relay(Process child, PrintStream err, CompletableFuture<Long> serving) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith(SERVING_LINE)) {
                    serving.complete(Long.parseLong(line.substring(SERVING_LINE.length()).strip()));
                    return;
                }
                err.println(line);
            }
            serving.complete(-1L);
        } catch (IOException | NumberFormatException e) {
            serving.completeExceptionally(new IOException("lost the background process's output: " + e.getMessage(), e));
        }
    }

    private static int exitStatus(Process child) {
        try {
            return child.waitFor(30, TimeUnit.SECONDS) ? child.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * The background half, once River serves: diagnostics now go to the log file, then the line that
     * lets the foreground process exit goes down the pipe (in that order, so no line is written to a
     * pipe nobody reads any more).
     */
    static void serving() throws IOException {
        String logFile = System.getenv(CHILD_MARKER);
        if (logFile == null) {
            return;
        }
        PrintStream toForeground = System.err;
        System.setErr(new PrintStream(new FileOutputStream(logFile, true), true, StandardCharsets.UTF_8));
        toForeground.println(SERVING_LINE + ProcessHandle.current().pid());
        toForeground.flush();
    }

    /** setsid, then this JVM's command again: java, its options, the jar or class path, the arguments. */
    static List<String> command() {
        List<String> command = new ArrayList<>();
        command.add("setsid");
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String classPath = System.getProperty("java.class.path");
        // "java -jar river.jar a b" reports the jar as its class path and as the first word of its command.
        String javaCommand = System.getProperty("sun.java.command", "");
        if (classPath.endsWith(".jar") && !classPath.contains(File.pathSeparator) && javaCommand.startsWith(classPath)) {
            command.addAll(List.of("-jar", classPath));
        } else {
            command.addAll(List.of("-cp", classPath, Main.class.getName()));
        }
        for (String arg : arguments) {
            if (!arg.equals("--daemonize")) {
                command.add(arg);
            }
        }
        return command;
    }
}
