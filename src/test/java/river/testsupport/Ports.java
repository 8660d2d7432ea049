package river.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Loopback ports for the real servers the tests start (nginx, redis-server, River processes). */
public final class Ports {
    private Ports() {}

    /** A TCP port on loopback that was free a moment ago. */
    public static int free() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Waits (up to 10 s) until {@code process} accepts connections on {@code port}; fails with its log otherwise. */
    static void awaitListening(int port, Process process, Path log, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException(what + " did not start: " + (Files.exists(log) ? Files.readString(log) : "no log"));
                }
                Thread.sleep(20);
            }
        }
    }
}
