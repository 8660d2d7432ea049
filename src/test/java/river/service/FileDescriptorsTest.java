package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.Eventually;
import river.testsupport.RawHttp2;
import river.testsupport.RiverHarness;
import river.testsupport.TestPki;

/**
 * The file server's descriptors, counted in {@code /proc/self/fd} (River runs in this JVM): a file is
 * open while its body is on the way and closed on every path, above all a client leaving in the middle
 * of a large file, whether the bytes go with sendfile (HTTP/1.1 in clear), in chunks through TLS, or
 * as HTTP/2 DATA frames under flow control (a stream reset, a connection dropped). Each case waits
 * for the count of River's descriptors on the site's files to come back to zero and the process's
 * whole count back to where it was.
 */
class FileDescriptorsTest {
    /** Larger than what loopback socket buffers hold on both sides, so the client really leaves mid-body. */
    private static final int SIZE = 32 * 1024 * 1024;
    private static final long WAIT_MS = 20_000;

    @TempDir
    static Path dir;
    static Path site;
    static RiverHarness river;
    /** A client context that trusts River's self-signed test certificate. */
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        site = Files.createDirectories(dir.resolve("site")).toRealPath();
        byte[] mib = new byte[1024 * 1024];
        new java.util.Random(16).nextBytes(mib);
        for (String name : new String[] {"big.bin", "big.bin.gz", "noise.txt"}) {
            try (var out = Files.newOutputStream(site.resolve(name))) {
                for (int i = 0; i < SIZE / mib.length; i++) {
                    out.write(mib);
                }
            }
        }
        Files.writeString(site.resolve("small.txt"), "small");
        TestPki.riverTestCertificate().copyTo(dir, "test");
        river = RiverHarness.start("""
                system {
                    threads-per-service 1
                }
                services {
                    clear {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                            precompressed true
                        }
                    }
                    secure {
                        listeners {
                            "127.0.0.1:0" cert-path="test.crt" key-path="test.key"
                        }
                        file-server {
                            base-path "site"
                            precompressed true
                        }
                    }
                    brief {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                        timeouts keepalive-idle-ms=1000
                    }
                    compressed {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        file-server {
                            base-path "site"
                        }
                        compression {
                            enabled true
                            algorithms "br,zstd,gzip"
                        }
                    }
                }
                """, dir);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        tls = context;
        // Every kind of connection once, so that what River opens lazily (TLS, the blocking pool) is in the baseline.
        for (String service : new String[] {"clear", "secure"}) {
            try (Socket s = connect(service, "http/1.1")) {
                send(s, "GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                s.getInputStream().readAllBytes();
            }
        }
        try (RawHttp2 h2 = new RawHttp2(connect("secure", "h2"))) {
            h2.request(1, "GET", "https", "/small.txt");
            while (!h2.read().endStream()) {
                // until the small body has come
            }
        }
        awaitClosed(0);
    }

    @AfterAll
    static void stop() {
        river.close();
    }

    // ---- counting ---------------------------------------------------------------------------------

    /** Descriptors of this process open on a file below the site (River's; the test opens none). */
    static long openSiteFiles() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(site);
                } catch (IOException e) {
                    return false; // closed between the listing and the look
                }
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** All descriptors of this process. */
    static long openDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits until River has no site file open and the process no more descriptors than {@code baseline} (0: skip). */
    static void awaitClosed(long baseline) throws InterruptedException {
        Eventually.await(() -> openSiteFiles() == 0 && (baseline == 0 || openDescriptors() <= baseline), WAIT_MS);
    }

    // ---- clients ----------------------------------------------------------------------------------

    static Socket connect(String service, String alpn) throws IOException {
        int port = river.port(service);
        if (!service.equals("secure")) {
            Socket s = new Socket("127.0.0.1", port);
            s.setSoTimeout(30_000);
            return s;
        }
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
        SSLParameters params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {alpn});
        s.setSSLParameters(params);
        s.setSoTimeout(30_000);
        s.startHandshake();
        assertThat(s.getApplicationProtocol()).isEqualTo(alpn);
        return s;
    }

    static void send(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** Reads a response head (lower-cased) off an HTTP/1.1 connection. */
    static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            assertThat(c).as("connection closed in the head").isNotNegative();
            head.write(c);
        }
        return head.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
    }

    /** Reads {@code n} body bytes. */
    static void readSome(InputStream in, int n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        int got = 0;
        while (got < n) {
            int r = in.read(buf, 0, Math.min(buf.length, n - got));
            assertThat(r).as("body ended after %d bytes", got).isPositive();
            got += r;
        }
    }

    /**
     * An HTTP/1.1 client asks for a large body, takes its head and 256 KiB of it, and leaves: River
     * must hold the file open meanwhile and close it once it sees the client gone.
     */
    private static void leaveMidBody(String service, String request, String expectedHeadPart) throws Exception {
        long baseline = openDescriptors();
        try (Socket s = connect(service, "http/1.1")) {
            send(s, request);
            InputStream in = s.getInputStream();
            assertThat(head(in)).contains(expectedHeadPart);
            readSome(in, 256 * 1024);
            assertThat(openSiteFiles()).as("River holds the file while its body is on the way").isEqualTo(1);
        }
        awaitClosed(baseline);
    }

    // ---- HTTP/1.1 ---------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clear", "secure"})
    void aClientLeavingMidFileLeavesNoDescriptor(String service) throws Exception {
        leaveMidBody(service, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", "content-length: " + SIZE);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clear", "secure"})
    void aClientLeavingMidRangeLeavesNoDescriptor(String service) throws Exception {
        leaveMidBody(service, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-\r\n\r\n",
                "content-range: bytes 1000-" + (SIZE - 1) + "/" + SIZE);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clear", "secure"})
    void aClientLeavingMidPrecompressedVariantLeavesNoDescriptor(String service) throws Exception {
        leaveMidBody(service, "GET /big.bin HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "content-encoding: gzip");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clear", "secure"})
    void headAndMultipartRangesCloseTheFileOnAConnectionThatStays(String service) throws Exception {
        long baseline = openDescriptors();
        try (Socket s = connect(service, "http/1.1")) {
            InputStream in = s.getInputStream();
            send(s, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(head(in)).contains("content-length: " + SIZE);
            awaitClosed(0);
            send(s, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99,2000-2099\r\n\r\n");
            String head = head(in);
            assertThat(head).contains("206", "multipart/byteranges");
            int length = Integer.parseInt(head.replaceAll("(?s).*content-length: (\\d+).*", "$1"));
            readSome(in, length);
            awaitClosed(0);
            send(s, "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(head(in)).as("the connection still serves").contains("200");
        }
        awaitClosed(baseline);
    }

    // ---- HTTP/2 over TLS --------------------------------------------------------------------------

    /** Reads frames until {@code stream} has had {@code n} DATA bytes (HEADERS first); fails if it ends. */
    private static void readData(RawHttp2 h2, int stream, int n) throws IOException {
        int got = 0;
        while (got < n) {
            RawHttp2.Frame f = h2.read();
            assertThat(f.type()).as("frame on stream %d after %d bytes", f.stream(), got).isNotIn(RawHttp2.RST_STREAM, RawHttp2.GOAWAY);
            if (f.stream() == stream && f.type() == RawHttp2.DATA) {
                got += f.payload().length;
                assertThat(f.endStream()).as("the body ended after %d bytes", got).isFalse();
            }
        }
    }

    /**
     * Asks for {@code path} on stream 1 and takes the 65,535 bytes the initial window allows, then asks
     * for a small file on stream 3 and checks what River's buffers grew by: less than a quarter of the
     * file. Stream 3's HEADERS (not flow-controlled) come after River's event loop has done with stream
     * 1's writes, so whatever it was going to queue for it is queued by then.
     */
    private static void stallOnAWindowShut(RawHttp2 h2, String scheme, String path, String... extra) throws IOException {
        ByteBufAllocatorMetricProvider allocator = (ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT;
        long memoryBefore = allocator.metric().usedDirectMemory() + allocator.metric().usedHeapMemory();
        h2.request(1, "GET", scheme, path, extra);
        readData(h2, 1, 65_535);
        h2.request(3, "GET", scheme, "/small.txt");
        RawHttp2.Frame f;
        while ((f = h2.read()).stream() != 3 || f.type() != RawHttp2.HEADERS) {
            assertThat(f.type()).isNotIn(RawHttp2.RST_STREAM, RawHttp2.GOAWAY);
        }
        long queued = allocator.metric().usedDirectMemory() + allocator.metric().usedHeapMemory() - memoryBefore;
        assertThat(queued).as("memory River uses while the client's window is shut (bytes)").isLessThan(SIZE / 4);
    }

    /**
     * A client that never opens its flow-control window (65,535 bytes for the stream and the connection)
     * gets that many bytes of a large file; River then holds the file open, with about one window
     * of it in memory rather than the file, and closes it when the client resets the stream, the
     * connection staying up.
     */
    @Test
    void http2FlowControlHoldsTheFileBackAndAResetStreamClosesIt() throws Exception {
        long baseline = openDescriptors();
        try (RawHttp2 h2 = new RawHttp2(connect("secure", "h2"))) {
            stallOnAWindowShut(h2, "https", "/big.bin");
            RawHttp2.Frame f;
            // small.txt is under what a stream may have in flight (Http2ServerStream.HIGH_WATER): read whole
            // and closed, its bytes wait for the window in memory.
            assertThat(openSiteFiles()).as("big.bin waits for the window").isEqualTo(1);
            h2.cancel(1);
            h2.cancel(3);
            awaitClosed(0);
            // The connection is still there: a HEAD on a new stream is answered.
            h2.request(5, "HEAD", "https", "/big.bin");
            int bodyBytes = 0;
            do {
                f = h2.read();
                assertThat(f.type()).isNotEqualTo(RawHttp2.GOAWAY);
                assertThat(f.stream() == 5 && f.type() == RawHttp2.RST_STREAM).as("stream 5 reset").isFalse();
                bodyBytes += f.stream() == 5 && f.type() == RawHttp2.DATA ? f.payload().length : 0;
            } while (f.stream() != 5 || !f.endStream());
            assertThat(bodyBytes).as("HEAD has no body").isZero();
            awaitClosed(0);
        }
        awaitClosed(baseline);
    }

    /** Streams of a connection that drops mid-body (the whole file, a range, a precompressed variant). */
    @Test
    void http2ConnectionDroppedMidFilesLeavesNoDescriptor() throws Exception {
        long baseline = openDescriptors();
        try (RawHttp2 h2 = new RawHttp2(connect("secure", "h2"))) {
            h2.request(1, "GET", "https", "/big.bin");
            h2.request(3, "GET", "https", "/big.bin", "range", "bytes=1000-");
            h2.request(5, "GET", "https", "/big.bin", "accept-encoding", "gzip");
            h2.request(7, "GET", "https", "/big.bin", "range", "bytes=0-9,100-109");
            // The window shared by the connection goes to whichever stream comes first; wait for all heads.
            java.util.Set<Integer> heads = new java.util.HashSet<>();
            while (heads.size() < 4) {
                RawHttp2.Frame f = h2.read();
                assertThat(f.type()).isNotIn(RawHttp2.RST_STREAM, RawHttp2.GOAWAY);
                if (f.type() == RawHttp2.HEADERS) {
                    heads.add(f.stream());
                }
            }
            Eventually.await(() -> openSiteFiles() == 3, WAIT_MS); // the multipart body is in memory, its file closed
        }
        awaitClosed(baseline);
    }

    // ---- compressed on the fly --------------------------------------------------------------------

    /** A file compressed on the fly streams through the encoder: the client leaving closes file and encoder. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gzip", "br", "zstd"})
    void aClientLeavingMidCompressedFileLeavesNoDescriptor(String coding) throws Exception {
        leaveMidBody("compressed", "GET /noise.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: " + coding + "\r\n\r\n",
                "content-encoding: " + coding);
    }

    /**
     * An HTTP/2 client that keeps its window shut while a 32 MiB file is compressed for it: River
     * reads the file only as the stream takes the compressed bytes, so it holds about a window and a
     * piece, not the file's compressed bytes; the reset frees file and encoder.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gzip", "br", "zstd"})
    void compressingAFileForAStalledHttp2ClientHoldsLittle(String coding) throws Exception {
        try (RawHttp2 h2 = new RawHttp2(new Socket("127.0.0.1", river.port("compressed")))) {
            stallOnAWindowShut(h2, "http", "/noise.txt", "accept-encoding", coding);
            h2.cancel(1);
            h2.cancel(3);
            awaitClosed(0);
        }
    }

    // ---- a download longer than the keep-alive timeout ------------------------------------------

    /**
     * The keep-alive timer starts when the response has been handed over, while a large file is still
     * on its way: a download that keeps moving outlives {@code keepalive-idle-ms} (1 s here; at 16 MB/s the 32 MiB take 2 s, and what the socket buffers hold drains in well under 1 s), and one
     * the client stops reading is closed after it, the file with it.
     */
    @Test
    void aMovingDownloadOutlivesTheKeepAliveTimeoutAndAStalledOneDoesNot() throws Exception {
        Path out = dir.resolve("download.bin");
        Process curl = new ProcessBuilder("curl", "-sS", "-m", "60", "--limit-rate", "16M", "-o", out.toString(),
                "-w", "%{http_code} %{size_download}", "http://127.0.0.1:" + river.port("brief") + "/big.bin")
                .redirectErrorStream(true).start();
        String result = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).as("curl: " + result).isZero();
        assertThat(result).isEqualTo("200 " + SIZE);

        try (Socket s = connect("brief", "http/1.1")) {
            send(s, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            InputStream in = s.getInputStream();
            assertThat(head(in)).contains("200");
            readSome(in, 256 * 1024);
            awaitClosed(0);
        }
    }
}
