package river.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP load balancer in front of a fleet, for tests: listens on 127.0.0.1:{@code port} and pipes each connection,
 * both ways and byte for byte (TLS passes through), to the backend the test names with {@link #forwardTo}; a
 * connection accepted before then waits for it (at most 30 s, then it is closed). Bounded: at most
 * {@value #MAX_CONNECTIONS} connections in its life; closing it closes every socket it holds.
 */
public final class TcpForwarder implements AutoCloseable {
    private static final int MAX_CONNECTIONS = 64;
    private final ServerSocket listening;
    private final CompletableFuture<Integer> backend = new CompletableFuture<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger forwarded = new AtomicInteger();
    private final Thread acceptor;

    public TcpForwarder(int port) throws IOException {
        listening = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "tcp-forwarder-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Where connections go from now on (and those waiting): 127.0.0.1:{@code port}. */
    public void forwardTo(int port) {
        backend.complete(port);
    }

    /** How many connections were piped to the backend so far. */
    public int forwarded() {
        return forwarded.get();
    }

    private void accept() {
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Socket client = listening.accept();
                sockets.add(client);
                daemon(() -> connect(client));
            }
        } catch (IOException closed) {
            // close() ends the loop
        }
    }

    private void connect(Socket client) {
        try {
            Socket upstream = new Socket(InetAddress.getLoopbackAddress(), backend.get(30, TimeUnit.SECONDS));
            sockets.add(upstream);
            forwarded.incrementAndGet();
            daemon(() -> pump(client, upstream));
            pump(upstream, client);
        } catch (Exception e) {
            close(client);
        }
    }

    /** Copies until {@code from} ends, then ends {@code to}'s output (the other direction may go on). */
    private static void pump(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream(); // not closed here: that would close the socket, both directions
            OutputStream out = to.getOutputStream();
            in.transferTo(out);
            to.shutdownOutput();
        } catch (IOException e) {
            close(to);
        }
    }

    private static void daemon(Runnable task) {
        Thread t = new Thread(task, "tcp-forwarder-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws InterruptedException {
        close(listening);
        backend.complete(-1);
        for (Socket s : sockets) {
            close(s);
        }
        acceptor.join(5_000);
    }

    private static void close(ServerSocket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
