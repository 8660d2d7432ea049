import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Closed-loop HTTP/1.1 load that counts answers second by second, for watching a proxy through an
 * upgrade or a reload: CONNECTIONS keep-alive connections, each sending GET PATH as soon as the last
 * answer arrived; a connection the server closes is reopened, and a request it closed before any byte
 * of the answer is resent (RFC 9112 §9.3.1) and counted as "resent".
 *
 *   java bench/SecondsLoad.java PORT SECONDS [CONNECTIONS=16] [PATH=/hello]
 *
 * Prints one line per second: "second answered resent failed reconnects" (tab separated).
 */
public final class SecondsLoad {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int seconds = Integer.parseInt(args[1]);
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        String path = args.length > 3 ? args[3] : "/hello";
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: bench\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        AtomicLongArray answered = new AtomicLongArray(seconds + 1);
        AtomicLongArray resent = new AtomicLongArray(seconds + 1);
        AtomicLongArray failed = new AtomicLongArray(seconds + 1);
        AtomicLongArray reconnects = new AtomicLongArray(seconds + 1);
        long start = System.nanoTime();
        // Second 0 on the wall clock, so that a script can place its own events on the same axis.
        System.err.println("start-epoch-ms " + System.currentTimeMillis());
        long end = start + seconds * 1_000_000_000L;
        AtomicLong errors = new AtomicLong();
        Thread[] threads = new Thread[connections];
        for (int i = 0; i < connections; i++) {
            threads[i] = new Thread(() -> {
                Socket socket = null;
                InputStream in = null;
                OutputStream out = null;
                while (System.nanoTime() < end) {
                    int second = (int) ((System.nanoTime() - start) / 1_000_000_000L);
                    try {
                        if (socket == null) {
                            socket = new Socket();
                            socket.setTcpNoDelay(true);
                            socket.setSoTimeout(30_000);
                            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                            in = new BufferedInputStream(socket.getInputStream(), 16384);
                            out = socket.getOutputStream();
                            reconnects.incrementAndGet(second);
                        }
                        out.write(request);
                        out.flush();
                        int answer = readResponse(in);
                        if (answer == NOTHING) {
                            resent.incrementAndGet(second);
                            socket.close();
                            socket = null;
                            continue;
                        }
                        answered.incrementAndGet(second);
                        if (answer == CLOSE) {
                            socket.close();
                            socket = null;
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet(second);
                        if (errors.incrementAndGet() < 5) {
                            System.err.println("second " + second + ": " + e);
                        }
                        try {
                            if (socket != null) {
                                socket.close();
                            }
                        } catch (IOException ignored) {
                            // already broken
                        }
                        socket = null;
                    }
                }
            });
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        for (int s = 0; s < seconds; s++) {
            System.out.println(s + "\t" + answered.get(s) + "\t" + resent.get(s) + "\t" + failed.get(s) + "\t" + reconnects.get(s));
        }
    }

    private static final int KEEP = 0;
    private static final int CLOSE = 1;
    private static final int NOTHING = 2;

    /** Reads one response with a Content-Length or chunked body; NOTHING if the connection closed first. */
    private static int readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) {
            return NOTHING;
        }
        if (!status.startsWith("HTTP/1.1 200")) {
            throw new IOException("answer: " + status);
        }
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        String header;
        while (!(header = line(in)).isEmpty()) {
            String lower = header.toLowerCase(java.util.Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            }
        }
        if (chunked) {
            for (;;) {
                long size = Long.parseLong(line(in).split(";")[0].trim(), 16);
                if (size == 0) {
                    while (!line(in).isEmpty()) {
                        // trailers
                    }
                    break;
                }
                skip(in, size + 2);
            }
        } else if (length > 0) {
            skip(in, length);
        }
        return close ? CLOSE : KEEP;
    }

    private static void skip(InputStream in, long n) throws IOException {
        while (n > 0) {
            long k = in.skip(n);
            if (k <= 0) {
                if (in.read() < 0) {
                    throw new IOException("body cut short");
                }
                k = 1;
            }
            n -= k;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        if (c == -1 && b.length() == 0) {
            return null;
        }
        if (c == -1) {
            throw new IOException("connection closed inside a response");
        }
        return b.toString();
    }
}
