package river.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged {@code river.jar} as a real process, the way an operator does, with Netty's leak
 * detection at PARANOID (River itself turns it off unless told otherwise) so that a leak the process
 * reports fails the test.
 */
public final class RiverProcess {
    private RiverProcess() {}

    /** JVM options every River process of the tests gets. */
    private static final List<String> TEST_JVM_OPTIONS = List.of("-Dio.netty.leakDetection.level=paranoid");

    /** What Netty's ResourceLeakDetector logs for a leaked buffer. */
    private static final String LEAK = "LEAK:";

    private static void assertNoLeakReported(String output) {
        int at = output.indexOf(LEAK);
        if (at >= 0) {
            throw new AssertionError("river reported a leaked buffer:\n" + output.substring(at, Math.min(output.length(), at + 4000)));
        }
    }

    /** The jar built by {@code mvn package}; failsafe passes its path. */
    public static Path jar() {
        String configured = System.getProperty("river.jar");
        return Path.of(configured != null ? configured : "target/river.jar").toAbsolutePath();
    }

    /** The result of a finished run. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /** Runs River to completion in {@code workingDirectory} with extra environment variables. */
    public static Result run(Path workingDirectory, Map<String, String> env, String... args) throws IOException, InterruptedException {
        Process p = start(workingDirectory, env, args);
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("river did not exit within 60 s");
        }
        Result result = new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        assertNoLeakReported(result.stderr());
        return result;
    }

    /** Starts River in the background; the caller stops it. */
    public static Process start(Path workingDirectory, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary()));
        command.addAll(TEST_JVM_OPTIONS);
        command.addAll(List.of("-jar", jar().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        builder.environment().putAll(env);
        return builder.start();
    }

    /** A River process started in the background, with its output going to files. */
    public record Running(Process process, Path stdout, Path stderr) implements AutoCloseable {
        /**
         * Waits until River's diagnostics (stderr) or, with {@code accessLog}, its access log (stdout)
         * contain {@code text}; fails after 30 s or if the process exits first.
         */
        public void awaitOutput(String text, boolean accessLog) throws IOException, InterruptedException {
            awaitOutput(text, accessLog, 30);
        }

        /** {@link #awaitOutput(String, boolean)}, failing after {@code seconds}. */
        public void awaitOutput(String text, boolean accessLog, int seconds) throws IOException, InterruptedException {
            Path file = accessLog ? stdout : stderr;
            if (FileWait.awaitAnyContains(java.util.List.of(file), text, process::isAlive, seconds) != 0) {
                throw new AssertionError("river " + (process.isAlive() ? "did not write" : "exited without writing") + " \"" + text + "\":\n"
                        + java.nio.file.Files.readString(file));
            }
        }

        /** Waits until {@code count} listeners are bound; returns their ports in log order. */
        public List<Integer> awaitListening(int count) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            java.util.regex.Pattern listening = java.util.regex.Pattern.compile("listening on [^\\s]*:(\\d+)");
            while (System.nanoTime() < deadline) {
                List<Integer> ports = new ArrayList<>();
                java.util.regex.Matcher m = listening.matcher(java.nio.file.Files.readString(stderr));
                while (m.find()) {
                    ports.add(Integer.parseInt(m.group(1)));
                }
                if (ports.size() >= count) {
                    return ports;
                }
                if (!process.isAlive()) {
                    throw new AssertionError("river exited with " + process.exitValue() + ":\n" + java.nio.file.Files.readString(stderr));
                }
                Thread.sleep(50);
            }
            throw new AssertionError("river did not start listening:\n" + java.nio.file.Files.readString(stderr));
        }

        /**
         * Makes the process look for leaks now and fails if it reports one: three times, a full
         * collection (jcmd GC.run returns when it is done) and then a request to {@code port}, whose
         * buffer allocations make Netty check its queue of collected buffers.
         */
        public void assertNoLeaks(int port) throws IOException, InterruptedException {
            for (int round = 0; round < 3; round++) {
                Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(process.pid()), "GC.run").redirectErrorStream(true).start();
                gc.getInputStream().readAllBytes();
                if (!gc.waitFor(30, TimeUnit.SECONDS) || gc.exitValue() != 0) {
                    throw new AssertionError("jcmd GC.run failed on river");
                }
                try (RawHttp raw = new RawHttp(port)) {
                    raw.send("GET /leak-check HTTP/1.1\r\nHost: leak-check\r\nConnection: close\r\n\r\n");
                    raw.read();
                }
            }
            assertNoLeakReported(java.nio.file.Files.readString(stderr));
        }

        /** Stops the process, then fails if it reported a leaked buffer at any time. */
        @Override
        public void close() throws IOException, InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("river did not exit within 30 s of SIGKILL");
            }
            assertNoLeakReported(java.nio.file.Files.readString(stderr) + java.nio.file.Files.readString(stdout));
        }
    }

    /** Starts River with JVM options, its stdout and stderr written to files in {@code logs}. */
    public static Running startLogged(Path workingDirectory, Path logs, List<String> jvmOptions, String... args) throws IOException {
        return startLogged(workingDirectory, logs, List.of(), jvmOptions, Map.of(), args);
    }

    /**
     * Starts River as {@link #startLogged(Path, Path, List, String...)} does, with extra environment
     * variables and the command prefixed by {@code launcher} (a program that execs the rest, such as
     * systemd-socket-activate), so that the process is River's own.
     */
    public static Running startLogged(Path workingDirectory, Path logs, List<String> launcher, List<String> jvmOptions,
            Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.add(javaBinary());
        command.addAll(TEST_JVM_OPTIONS);
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString()));
        command.addAll(List.of(args));
        Path out = logs.resolve("river.out");
        Path err = logs.resolve("river.err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        builder.environment().putAll(env);
        return new Running(builder.start(), out, err);
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
