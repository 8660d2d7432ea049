package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** IPv6 and Unix-socket listeners, and a connect that never completes. */
class ListenerKindsTest {
    @TempDir
    Path dir;

    @Test
    void servesOnIpv6AndUnixSocketListeners() throws Exception {
        Path socket = dir.resolve("river.sock");
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start("""
                        services {
                            proxy {
                                listeners {
                                    "[::1]:0"
                                    "unix:%s"
                                }
                                connectors {
                                    "%s"
                                }
                            }
                        }
                        """.formatted(socket, origin.address()))) {
            int port = river.port("proxy");
            try (Socket s = new Socket("::1", port)) {
                s.getOutputStream().write("GET /echo HTTP/1.1\r\nHost: v6\r\nConnection: close\r\n\r\n".getBytes());
                String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(response).startsWith("HTTP/1.1 200").contains("x-forwarded-for: 0:0:0:0:0:0:0:1");
            }
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ch.write(ByteBuffer.wrap("GET /echo HTTP/1.1\r\nHost: uds\r\nConnection: close\r\n\r\n".getBytes()));
                ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                while (ch.read(buf) != -1) {
                    // read to the end
                }
                String response = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
                assertThat(response).startsWith("HTTP/1.1 200").contains("GET /echo").doesNotContain("x-forwarded-for");
            }
        }
    }

    @Test
    void connectThatNeverCompletesGives504() throws Exception {
        // A listener that never accepts: once its queue is full, the kernel drops further SYNs,
        // so River's connect hangs until its connect timeout.
        try (ServerSocket blackhole = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(blackhole.getLocalSocketAddress(), 200);
                        fillers.add(s);
                    } catch (IOException full) {
                        s.close();
                        break;
                    }
                }
                try (RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(1, "    timeouts connect-ms=300\n",
                        "127.0.0.1:" + blackhole.getLocalPort()))) {
                    // The client's 10 s socket timeout only stops a hung test; the 504 is the connect timeout's.
                    try (RawHttp raw = new RawHttp(river.port("proxy"))) {
                        raw.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
                        RawHttp.Response r = raw.read();
                        assertThat(r.status()).isEqualTo(504);
                        assertThat(r.text()).contains("timed out connecting");
                    }
                }
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }
}
