package river.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.TlsSessions;
import river.config.TlsSettings;
import river.testsupport.SClient;
import river.testsupport.TestPki;

/**
 * Session resumption on a listener's TLS (BoringSSL), checked with openssl s_client saving a
 * session after one connection ({@code -sess_out}) and offering it on the next ({@code -sess_in}):
 * tickets in TLS 1.3 and 1.2, key rotation behind a clock the test moves, a key file shared by two
 * servers, and resumption turned off.
 */
class SessionResumptionTest {
    private static final long HOUR = 3_600_000;
    static TestPki.Pair pair;

    @TempDir
    Path dir;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Channel> servers = new ArrayList<>();
    private final AtomicLong clock = new AtomicLong(1_000_000);

    @BeforeAll
    static void certificate() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "BoringSSL (netty-tcnative) is needed");
        pair = TestPki.server("localhost", "localhost");
    }

    @AfterEach
    void stop() throws Exception {
        for (Channel c : servers) {
            c.close().sync();
        }
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }

    private SessionResumption sessions(boolean tickets, Optional<Path> keyFile, int cacheSize) throws Exception {
        return SessionResumption.of(new TlsSessions(tickets, keyFile, HOUR, cacheSize, 300_000), clock::get);
    }

    private ServerTls tls(SessionResumption sessions) throws Exception {
        TlsSettings settings = new TlsSettings(pair.cert(), pair.key(), "1.2", List.of(), List.of(), Optional.empty());
        return new ServerTls(settings, "test", false, null, List.of(), sessions);
    }

    /** A listener's TLS in front of a server that answers anything with a small response and closes. */
    private int serve(ServerTls tls) throws Exception {
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(ServerTls.TLS_HANDLER, tls.newHandler(ch.alloc(), 10_000));
                        ch.pipeline().addLast(ServerTls.OUTCOME_HANDLER, tls.newOutcomeCounter());
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                                ctx.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                                        StandardCharsets.US_ASCII)).addListener(ChannelFutureListener.CLOSE);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        servers.add(server);
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private static boolean resumed(int port, String version, Path in, Path out) throws Exception {
        return SClient.resumed(port, version, in, out);
    }

    /** Whether a second connection resumes the first one's session (which must not have been resumed). */
    private boolean secondConnectionResumes(int port, String version) throws Exception {
        Path session = dir.resolve("session" + version);
        assertThat(resumed(port, version, null, session)).as(version + " first connection").isFalse();
        return resumed(port, version, session, null);
    }

    @Test
    void ticketsResumeTls13AndTls12SessionsWithTheDefaults() throws Exception {
        ServerTls tls = tls(sessions(true, Optional.empty(), 20_000));
        int port = serve(tls);
        for (String version : List.of("-tls1_3", "-tls1_2")) {
            assertThat(secondConnectionResumes(port, version)).as(version + " second connection").isTrue();
        }
        assertThat(tls.handshakesCompleted()).isEqualTo(4);
        assertThat(tls.handshakesResumed()).isEqualTo(2);
    }

    @Test
    void aRotatedKeyStillResumesDuringTheOverlapAndNotAfter() throws Exception {
        // No cache: a TLS 1.2 session can only come back by its ticket.
        SessionResumption sessions = sessions(true, Optional.empty(), 0);
        int port = serve(tls(sessions));
        for (String version : List.of("-tls1_3", "-tls1_2")) {
            Path session = dir.resolve("rotated" + version);
            assertThat(resumed(port, version, null, session)).isFalse();
            byte[] first = sessions.keyNames().get(0);
            int held = sessions.keyNames().size();

            clock.addAndGet(HOUR - 1);
            sessions.refresh();
            assertThat(sessions.keyNames()).as("not due yet").hasSize(held).first().isEqualTo(first);

            clock.addAndGet(1);
            sessions.refresh();
            assertThat(sessions.keyNames()).hasSize(2);
            assertThat(sessions.keyNames().get(1)).as("the previous key decrypts").isEqualTo(first);
            assertThat(resumed(port, version, session, null)).as(version + " within the overlap").isTrue();

            clock.addAndGet(HOUR);
            sessions.refresh();
            assertThat(sessions.keyNames()).extracting(k -> java.util.Arrays.equals(k, first)).containsExactly(false, false);
            assertThat(resumed(port, version, session, null)).as(version + " after the key was dropped").isFalse();
        }
    }

    @Test
    void withTicketsAndTheCacheOffNothingResumes() throws Exception {
        ServerTls tls = tls(sessions(false, Optional.empty(), 0));
        int port = serve(tls);
        for (String version : List.of("-tls1_3", "-tls1_2")) {
            assertThat(secondConnectionResumes(port, version)).as(version).isFalse();
        }
        assertThat(tls.handshakesResumed()).isZero();
    }

    @Test
    void withoutTicketsTls12ResumesFromTheCacheAndTls13DoesNot() throws Exception {
        int port = serve(tls(sessions(false, Optional.empty(), 100)));
        assertThat(secondConnectionResumes(port, "-tls1_2")).isTrue();
        // BoringSSL resumes TLS 1.3 by ticket only: with tickets off it sends none.
        assertThat(secondConnectionResumes(port, "-tls1_3")).isFalse();
        assertThat(Files.exists(dir.resolve("session-tls1_3"))).isFalse();
    }

    @Test
    void serversSharingAKeyFileResumeEachOthersTicketsAndAReplacedFileIsUsed() throws Exception {
        Path keys = dir.resolve("ticket.key");
        byte[] oldKey = new byte[48];
        new java.security.SecureRandom().nextBytes(oldKey);
        Files.write(keys, oldKey);
        SessionResumption onA = sessions(true, Optional.of(keys), 0);
        SessionResumption onB = sessions(true, Optional.of(keys), 0);
        int a = serve(tls(onA));
        int b = serve(tls(onB));
        Path session = dir.resolve("fromA");
        assertThat(resumed(a, "-tls1_3", null, session)).isFalse();
        assertThat(resumed(b, "-tls1_3", session, null)).as("A's ticket on B").isTrue();

        // A fleet's rotation: first the new key to encrypt and the old one to decrypt, then the new key alone.
        byte[] newKey = new byte[48];
        new java.security.SecureRandom().nextBytes(newKey);
        Files.write(keys, concat(newKey, oldKey));
        Files.setLastModifiedTime(keys, FileTime.fromMillis(Files.getLastModifiedTime(keys).toMillis() + 2_000));
        onB.refresh();
        assertThat(onB.keyNames()).hasSize(2);
        assertThat(resumed(b, "-tls1_3", session, null)).as("old key still decrypts").isTrue();
        Files.write(keys, newKey);
        Files.setLastModifiedTime(keys, FileTime.fromMillis(Files.getLastModifiedTime(keys).toMillis() + 4_000));
        onB.refresh();
        assertThat(onB.keyNames()).hasSize(1);
        assertThat(resumed(b, "-tls1_3", session, null)).as("old key gone").isFalse();

        Files.write(keys, new byte[47]);
        Files.setLastModifiedTime(keys, FileTime.fromMillis(Files.getLastModifiedTime(keys).toMillis() + 6_000));
        onB.refresh();
        assertThat(onB.keyNames()).as("a broken file keeps the keys in use").hasSize(1).first().isEqualTo(java.util.Arrays.copyOf(newKey, 16));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void handedOverKeysResumeTheOldTicketsAndRotateWhenTheOldProcessWould() throws Exception {
        SessionResumption old = sessions(true, Optional.empty(), 0);
        int oldPort = serve(tls(old));
        clock.addAndGet(HOUR);
        old.refresh(); // two keys now, as after the first rotation
        Path session = dir.resolve("handed");
        assertThat(resumed(oldPort, "-tls1_3", null, session)).isFalse();
        clock.addAndGet(600_000);
        SessionResumption.HandedKeys handed = old.handOver().orElseThrow();
        assertThat(handed.currentAgeMs()).isEqualTo(600_000);
        assertThat(handed.toString()).isEqualTo("2 ticket key(s), the current one 600000 ms old");

        // The new process: its own monotonic clock, any origin; its contexts are built before the keys come.
        AtomicLong newClock = new AtomicLong(77_000_000);
        SessionResumption next = SessionResumption.of(new TlsSessions(true, Optional.empty(), HOUR, 0, 300_000), newClock::get);
        int newPort = serve(tls(next));
        assertThat(resumed(newPort, "-tls1_3", session, null)).as("before the keys are taken").isFalse();
        next.adopt(handed);
        assertThat(next.keyNames()).containsExactlyElementsOf(old.keyNames());
        assertThat(resumed(newPort, "-tls1_3", session, null)).as("the old ticket on the new context").isTrue();

        newClock.addAndGet(HOUR - 600_000 - 1);
        next.refresh();
        assertThat(next.keyNames()).as("not due yet").containsExactlyElementsOf(old.keyNames());
        newClock.addAndGet(1);
        next.refresh();
        assertThat(next.keyNames().get(1)).as("rotated when the old process would have").isEqualTo(old.keyNames().get(0));
    }

    @Test
    void onlyRiversOwnKeysOfAServiceWithTlsAreHandedOver() throws Exception {
        assertThat(sessions(true, Optional.empty(), 20_000).handOver()).as("no TLS context").isEmpty();
        SessionResumption off = sessions(false, Optional.empty(), 20_000);
        tls(off);
        assertThat(off.handOver()).as("tickets off").isEmpty();
        Path file = dir.resolve("handover.key");
        Files.write(file, new byte[TlsSessions.TICKET_KEY_BYTES]);
        SessionResumption fromFile = sessions(true, Optional.of(file), 20_000);
        tls(fromFile);
        assertThat(fromFile.handOver()).as("the new process reads the file").isEmpty();
    }
}
