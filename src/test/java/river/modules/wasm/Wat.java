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
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            found |= Files.isExecutable(Path.of(dir, "wat2wasm"));
        }
        assumeTrue(found, "wat2wasm (Debian package wabt) is not installed: the WebAssembly plugin tests need it");
    }

    /** Compiles the resource {@code wasm/<name>.wat} to {@code dir/<name>.wasm}. */
    static Path compile(String name, Path dir) throws IOException, InterruptedException {
        Path wat = dir.resolve(name + ".wat");
        try (InputStream in = Wat.class.getResourceAsStream("/wasm/" + name + ".wat")) {
            Files.copy(in, wat);
        }
        Path wasm = dir.resolve(name + ".wasm");
        Process p = new ProcessBuilder("wat2wasm", wat.toString(), "-o", wasm.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("wat2wasm " + wat + " failed: " + output);
        }
        return wasm;
    }
}
