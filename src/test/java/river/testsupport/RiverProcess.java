package river.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the packaged {@code river.jar} as a real process, the way an operator does. */
public final class RiverProcess {
    private RiverProcess() {}

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
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** Starts River in the background; the caller stops it. */
    public static Process start(Path workingDirectory, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-jar", jar().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        builder.environment().putAll(env);
        return builder.start();
    }

    /** A River process started in the background, with its output going to files. */
    public record Running(Process process, Path stdout, Path stderr) implements AutoCloseable {
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

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /** Starts River with JVM options, its stdout and stderr written to files in {@code logs}. */
    public static Running startLogged(Path workingDirectory, Path logs, List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString()));
        command.addAll(List.of(args));
        Path out = logs.resolve("river.out");
        Path err = logs.resolve("river.err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        return new Running(builder.start(), out, err);
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
