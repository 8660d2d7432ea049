package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverProcess;

/**
 * {@code bin/river --train} end to end: the launcher trains River on loopback and writes the start-up cache (AppCDS on
 * JDK 17–24, a static archive of the classes the training run loaded; the AOT cache on 25+); the next start through {@code bin/river} loads River's own classes from it, and a
 * cache that does not match (corrupt, another jar) is refused with a warning while River starts and serves anyway.
 */
class LauncherTrainIT {
    @TempDir
    Path dir;

    private Map<String, String> env(Path cacheDir) {
        return Map.of("RIVER_JAR", RiverProcess.jar().toString(), "RIVER_AOT_DIR", cacheDir.toString(),
                "JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static Path launcher() {
        return Path.of("bin", "river").toAbsolutePath();
    }

    /** Starts bin/river on a one-file file server, with class loading logged to {@code classes}. */
    private RiverProcess.Running start(Path cacheDir, Path classes, String name) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hello"), "hello from the cache test\n");
        Path config = Files.writeString(dir.resolve("river.kdl"), "system {\n  threads-per-service 1\n}\nservices {\n  web {\n"
                + "    listeners {\n      \"127.0.0.1:0\"\n    }\n    file-server {\n      base-path \"" + www + "\"\n    }\n  }\n}\n");
        Path logs = Files.createDirectories(dir.resolve("logs-" + name));
        ProcessBuilder builder = new ProcessBuilder(launcher().toString(), "--config-kdl", config.toString()).directory(dir.toFile())
                .redirectOutput(logs.resolve("river.out").toFile()).redirectError(logs.resolve("river.err").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        builder.environment().putAll(env(cacheDir));
        builder.environment().put("RIVER_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes);
        return new RiverProcess.Running(builder.start(), logs.resolve("river.out"), logs.resolve("river.err"));
    }

    private static int get(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** River's own classes (river.*) the JVM loaded, and how many of them came from a shared archive or AOT cache. */
    private static long[] riverClasses(Path classes) throws Exception {
        long all = 0;
        long cached = 0;
        for (String line : Files.readAllLines(classes)) {
            if (line.contains(" river.")) {
                all++;
                if (line.contains("shared objects file") || line.contains("AOT")) {
                    cached++;
                }
            }
        }
        return new long[] {all, cached};
    }

    @Test
    void trainingWritesTheCacheTheNextStartLoadsRiversClassesFromAndAStaleOneIsRefusedHarmlessly() throws Exception {
        Path cacheDir = Files.createDirectories(dir.resolve("cache"));
        ProcessBuilder train = new ProcessBuilder(launcher().toString(), "--train").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("train.log").toFile());
        train.environment().keySet().removeIf(k -> k.startsWith("RIVER_"));
        train.environment().putAll(env(cacheDir));
        Process p = train.start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("training finished").isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("train.log"))).isZero();
        List<Path> caches;
        try (Stream<Path> files = Files.list(cacheDir)) {
            caches = files.filter(f -> f.getFileName().toString().matches("river-jdk\\d+\\.(jsa|aot)")).toList();
        }
        assertThat(caches).as("one cache for this JDK").hasSize(1);
        assertThat(Files.size(caches.get(0))).isPositive();

        Path classes = dir.resolve("classes-cached.log");
        List<long[]> seen = new ArrayList<>();
        try (RiverProcess.Running river = start(cacheDir, classes, "cached")) {
            int port = river.awaitListening(1).get(0);
            assertThat(get(port)).isEqualTo(200);
            seen.add(riverClasses(classes));
        }
        assertThat(seen.get(0)[0]).as("River's classes loaded").isPositive();
        assertThat(seen.get(0)[1]).as("River's classes from the cache, of " + seen.get(0)[0]).isGreaterThan(seen.get(0)[0] / 2);
        if (Runtime.version().feature() < 25) {
            // The static archive holds what a dynamic one leaves out: picocli's classes (class files older than Java 6).
            assertThat(Files.readAllLines(classes)).as("picocli from the archive")
                    .anyMatch(l -> l.contains(" picocli.CommandLine ") && l.contains("shared objects file"));
        }

        // A cache that does not match: the JVM refuses it, River starts without it.
        Files.write(caches.get(0), new byte[4096]);
        Path stale = dir.resolve("classes-stale.log");
        try (RiverProcess.Running river = start(cacheDir, stale, "stale")) {
            int port = river.awaitListening(1).get(0);
            assertThat(get(port)).isEqualTo(200);
            assertThat(riverClasses(stale)[1]).as("nothing from a refused cache").isZero();
        }
    }
}
