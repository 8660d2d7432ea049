package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.server.ListenerHandover;
import river.server.Transport;
import river.testsupport.Ports;
import river.testsupport.RiverProcess;
import river.testsupport.SClient;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * TLS session tickets through a real upgrade of the packaged River (two processes, {@code -Xrs}, as
 * UpgradeIT): openssl s_client saves a ticket A issued, A hands its listener and its ticket keys to
 * B, and the same ticket resumes on B. And the fallback: a hand-over without keys, as a River from
 * before the keys sends it, still upgrades, and B says once that it starts with new keys.
 */
class UpgradeTicketKeysIT {
    @TempDir
    Path dir;

    private TestOrigin origin;
    private final List<RiverProcess.Running> rivers = new java.util.ArrayList<>();

    @BeforeEach
    void certificate() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "BoringSSL (netty-tcnative) is needed");
        TestPki.server("localhost", "localhost").copyTo(dir, "test");
        origin = new TestOrigin();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (RiverProcess.Running r : rivers) {
            r.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String config(int port) {
        return """
                system {
                    upgrade-socket "%s"
                    grace-period-seconds 10
                }
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:%d" cert-path="%s" key-path="%s"
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(dir.resolve("upgrade.sock"), port, dir.resolve("test.crt"), dir.resolve("test.key"), origin.address());
    }

    private RiverProcess.Running start(String name, String kdl, String... extraArgs) throws IOException {
        Path file = dir.resolve(name + ".kdl");
        Files.writeString(file, kdl);
        Path logs = Files.createDirectories(dir.resolve(name));
        List<String> args = new java.util.ArrayList<>(List.of(extraArgs));
        args.addAll(List.of("--config-kdl", file.toString()));
        RiverProcess.Running river = RiverProcess.startLogged(dir, logs, List.of("-Xrs"), args.toArray(String[]::new));
        rivers.add(river);
        return river;
    }

    private static void quit(RiverProcess.Running river) throws Exception {
        Process kill = new ProcessBuilder("kill", "-QUIT", Long.toString(river.process().pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void aTicketTheOldProcessIssuedResumesOnTheNewOne() throws Exception {
        int port = Ports.free();
        RiverProcess.Running a = start("a", config(port));
        a.awaitOutput("River started", false);
        Path session13 = dir.resolve("session13");
        Path session12 = dir.resolve("session12");
        assertThat(SClient.resumed(port, "-tls1_3", null, session13)).isFalse();
        assertThat(SClient.resumed(port, "-tls1_2", null, session12)).isFalse();
        assertThat(SClient.resumed(port, "-tls1_3", session13, null)).as("A resumes its own ticket").isTrue();

        RiverProcess.Running b = start("b", config(port), "--upgrade");
        b.awaitOutput("waiting up to", false);
        quit(a);
        b.awaitOutput("River started", false);
        // A exits once drained: from then on every connection is B's.
        assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("A exits after the upgrade").isTrue();
        assertThat(a.process().exitValue()).isZero();

        assertThat(SClient.resumed(port, "-tls1_3", session13, null)).as("A's TLS 1.3 ticket on B").isTrue();
        assertThat(SClient.resumed(port, "-tls1_2", session12, null)).as("A's TLS 1.2 ticket on B").isTrue();
        String logs = Files.readString(a.stderr()) + Files.readString(b.stderr());
        assertThat(logs).doesNotContain("no TLS session ticket keys handed over").contains("took over the TLS session ticket keys of 1 service(s)");
        assertNoKeyMaterialIn(dir);
    }

    /** No file the upgrade left (logs, configuration, sockets) holds a key: a ticket key file would be 48 or 96 bytes. */
    private static void assertNoKeyMaterialIn(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain("KEY ");
            }
        }
    }

    @Test
    void aHandOverWithoutKeysStillUpgradesWithNewKeysSaidOnce() throws Exception {
        int port = Ports.free();
        EventLoopGroup group = Transport.EPOLL.newGroup(1, "old-river");
        try {
            // The old side as a River from before the keys speaks: its listener, no keys.
            Channel listener = new io.netty.bootstrap.ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.close();
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
            RiverProcess.Running b = start("b", config(port), "--upgrade");
            b.awaitOutput("waiting up to", false);
            ListenerHandover.Outcome outcome = ListenerHandover.send(dir.resolve("upgrade.sock"), List.of(listener), Duration.ofSeconds(60));
            assertThat(outcome.serving()).as(outcome.reason()).isTrue();
            listener.deregister().sync();
            b.awaitOutput("River started", false);
            String log = Files.readString(b.stderr());
            assertThat(log.split("no TLS session ticket keys handed over for service\\(s\\) \\[proxy\\]", -1)).as(log).hasSize(2);
            Path session = dir.resolve("session");
            assertThat(SClient.resumed(port, "-tls1_3", null, session)).isFalse();
            assertThat(SClient.resumed(port, "-tls1_3", session, null)).as("B's own keys resume its own tickets").isTrue();
            listener.close().sync();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
        }
    }
}
