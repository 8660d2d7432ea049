package river.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real redis-server (Debian's) on a loopback port, without persistence, for the fleet-limit tests. */
public final class Redis implements AutoCloseable {
    private final int port;
    private final Process process;

    public Redis(Path dir) throws IOException, InterruptedException {
        this(dir, Ports.free());
    }

    /** On a given port: to start Redis again where its clients expect it. */
    public Redis(Path dir, int port) throws IOException, InterruptedException {
        this.port = port;
        process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        Ports.awaitListening(port, process, dir.resolve("redis.log"), "redis-server");
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
