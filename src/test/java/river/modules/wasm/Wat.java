package river.modules.wasm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Test plugins: WAT sources under src/test/resources/wasm compiled with wabt's wat2wasm into a directory. */
final class Wat {
    private Wat() {}

    /** Whether wat2wasm is on the PATH; tests that need it are skipped (with this reason) when it is not. */
    static void assumeWat2Wasm() {
        assumeTrue(onPath("wat2wasm"), "wat2wasm (Debian package wabt) is not installed: the WebAssembly plugin tests need it");
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a build tool in {@code dir}, failing with its output when it fails. */
    static void run(Path dir, int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed in " + dir + ":\n" + new String(output));
        }
    }

    /** Closes what a test class started, skipping what it never got to start. */
    /** A proxying service in KDL on an ephemeral loopback port, in front of {@code origin}, with {@code plugin} as its only plugin. */
    static String pluginService(String name, String origin, String plugin) {
        return "  " + name + " {\n    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n      \"" + origin
                + "\"\n    }\n    plugins {\n      " + plugin + "\n    }\n  }\n";
    }

    static void closeAll(AutoCloseable... started) throws Exception {
        for (AutoCloseable c : started) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** Compiles the resource {@code wasm/<name>.wat}, with {@code placeholder} replaced by {@code value}, to {@code dir/<name>-<value>.wasm}. */
    static Path compile(String name, Path dir, String placeholder, String value) throws IOException, InterruptedException {
        String text;
        try (InputStream in = Wat.class.getResourceAsStream("/wasm/" + name + ".wat")) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).replace(placeholder, value);
        }
        Path wat = Files.writeString(dir.resolve(name + "-" + value + ".wat"), text);
        Path wasm = dir.resolve(name + "-" + value + ".wasm");
        run(dir, 60, "wat2wasm", wat.toString(), "-o", wasm.toString());
        return wasm;
    }

    /** Compiles the resource {@code wasm/<name>.wat} to {@code dir/<name>.wasm}. */
    static Path compile(String name, Path dir) throws IOException, InterruptedException {
        Path wat = dir.resolve(name + ".wat");
        try (InputStream in = Wat.class.getResourceAsStream("/wasm/" + name + ".wat")) {
            Files.copy(in, wat);
        }
        Path wasm = dir.resolve(name + ".wasm");
        run(dir, 60, "wat2wasm", wat.toString(), "-o", wasm.toString());
        return wasm;
    }
}
