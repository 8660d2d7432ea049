package river.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.config.TlsSettings;
import river.testsupport.TestPki;

/**
 * The ClientHello reader and the handler that chooses a listener's context from it, in an
 * EmbeddedChannel fed with real ClientHellos (the JDK's TLS client) cut into single bytes and into
 * several TLS records, and with broken ones.
 */
class ManagedSniHandlerTest {
    static TestPki.Pair managedPair;
    static TestPki.Pair staticPair;
    static TestPki.Pair challengePair;

    @BeforeAll
    static void certificates() throws Exception {
        managedPair = TestPki.server("m.example");
        staticPair = TestPki.server("static-default.example");
        challengePair = TestPki.alpnChallenge("m.example", new byte[32]);
    }

    private static SSLEngine client(String sni, String... alpn) throws Exception {
        SSLEngine engine = TestPki.trustingEverything().createSSLEngine("m.example", 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        return engine;
    }

    /** What the client sends first: one TLS record holding its ClientHello. */
    private static byte[] clientHello(SSLEngine client) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), out);
        runTasks(client);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** The handshake message inside a record, re-framed as {@code pieces} records of about equal size. */
    private static byte[] reframed(byte[] record, int pieces) {
        int length = ((record[3] & 0xff) << 8) | (record[4] & 0xff);
        byte[] message = java.util.Arrays.copyOfRange(record, 5, 5 + length);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int step = (message.length + pieces - 1) / pieces;
        for (int i = 0; i < message.length; i += step) {
            int n = Math.min(step, message.length - i);
            out.write(new byte[] {0x16, record[1], record[2], (byte) (n >> 8), (byte) n}, 0, 5);
            out.write(message, i, n);
        }
        return out.toByteArray();
    }

    /** The ClientHello body (from client_version), as Netty hands it to the handler. */
    private static ByteBuf body(byte[] record) {
        int length = ((record[6] & 0xff) << 16) | ((record[7] & 0xff) << 8) | (record[8] & 0xff);
        return Unpooled.wrappedBuffer(record, 9, length);
    }

    private static ServerTls listener(ManagedCertificates managed, boolean withStatic) throws Exception {
        TlsSettings settings = new TlsSettings(withStatic ? Optional.of(staticPair.cert()) : Optional.<Path>empty(),
                withStatic ? Optional.of(staticPair.key()) : Optional.<Path>empty(), "1.2", List.of(), List.of(), Optional.empty());
        return new ServerTls(settings, "test", true, managed, List.of("m.example"));
    }

    private static EmbeddedChannel channel(ServerTls tls) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ServerTls.TLS_HANDLER, tls.newHandler(ch.alloc(), 10_000));
        ch.pipeline().addLast(ServerTls.OUTCOME_HANDLER, tls.newOutcomeCounter());
        return ch;
    }

    /** Drives the handshake on from the client's first flight (already written to {@code ch}); returns the client when done. */
    private static SSLEngine finish(EmbeddedChannel ch, SSLEngine client) throws Exception {
        ByteBuffer app = ByteBuffer.allocate(client.getSession().getApplicationBufferSize() * 2);
        ByteBuffer fromServer = ByteBuffer.allocate(0);
        for (int round = 0; round < 50; round++) {
            ByteBuf o;
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            while ((o = ch.readOutbound()) != null) {
                byte[] b = new byte[o.readableBytes()];
                o.readBytes(b);
                o.release();
                got.write(b);
            }
            ByteBuffer merged = ByteBuffer.allocate(fromServer.remaining() + got.size());
            merged.put(fromServer).put(got.toByteArray()).flip();
            fromServer = merged;
            SSLEngineResult.HandshakeStatus hs = client.getHandshakeStatus();
            if (hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP && fromServer.hasRemaining()) {
                SSLEngineResult r = client.unwrap(fromServer, app);
                runTasks(client);
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && !ch.isOpen()) {
                    return client;
                }
                continue;
            }
            if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
                SSLEngineResult r = client.wrap(ByteBuffer.allocate(0), out);
                runTasks(client);
                out.flip();
                ch.writeInbound(Unpooled.wrappedBuffer(out));
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                    return client;
                }
                continue;
            }
            if (hs == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || hs == SSLEngineResult.HandshakeStatus.FINISHED) {
                return client;
            }
            if (hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP && !ch.isOpen()) {
                return client;
            }
            ch.runPendingTasks();
        }
        throw new AssertionError("the handshake did not finish: " + client.getHandshakeStatus());
    }

    private static String cn(SSLEngine client) throws Exception {
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        return leaf.getSubjectX500Principal().getName().replaceFirst("^.*CN=([^,]+).*$", "$1");
    }

    @Test
    void parsesTheServerNameAndTheAlpnOffer() throws Exception {
        ByteBuf b = body(clientHello(client("M.Example", "h2", "acme-tls/1")));
        assertThat(ClientHello.parse(b)).isEqualTo(new ClientHello("m.example", true, false));
        b = body(clientHello(client("m.example", "h2", "http/1.1")));
        assertThat(ClientHello.parse(b)).isEqualTo(new ClientHello("m.example", false, false));
        b = body(clientHello(client(null)));
        assertThat(ClientHello.parse(b)).isEqualTo(ClientHello.NONE);
        assertThat(ClientHello.parse(null)).isEqualTo(ClientHello.NONE);
    }

    @Test
    void everyTruncationOrFlippedByteParsesWithinBounds() throws Exception {
        byte[] record = clientHello(client("m.example", "acme-tls/1"));
        ByteBuf whole = body(record);
        for (int n = 0; n < whole.readableBytes(); n++) {
            ClientHello h = ClientHello.parse(whole.slice(whole.readerIndex(), n));
            // A cut before the extensions is a ClientHello without any; a cut inside them never parses.
            assertThat(h.malformed() || h.equals(ClientHello.NONE)).as("cut at %d: %s", n, h).isTrue();
        }
        java.util.Random random = new java.util.Random(17);
        for (int k = 0; k < 2000; k++) {
            byte[] copy = record.clone();
            copy[9 + random.nextInt(copy.length - 9)] ^= (byte) (1 + random.nextInt(255));
            ClientHello.parse(body(copy)); // must not throw
        }
    }

    @Test
    void aClientHelloArrivingByteByByteGetsTheManagedCertificate() throws Exception {
        ManagedCertificates managed = new ManagedCertificates();
        ServerTls tls = listener(managed, true);
        managed.install(List.of("m.example"), managedPair.privateKey(), managedPair.chain());
        EmbeddedChannel ch = channel(tls);
        SSLEngine client = client("m.example", "h2");
        for (byte b : clientHello(client)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertThat(ch.pipeline().get(ServerTls.TLS_HANDLER)).isInstanceOf(SslHandler.class);
        assertThat(cn(finish(ch, client))).isEqualTo("m.example");
        assertThat(tls.handshakesCompleted()).isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aClientHelloSplitOverSeveralRecordsGetsTheChallengeAndIsClosedAfterTheHandshake() throws Exception {
        ManagedCertificates managed = new ManagedCertificates();
        ServerTls tls = listener(managed, true);
        managed.addAlpnChallenge("m.example", challengePair.privateKey(), challengePair.chain().get(0));
        EmbeddedChannel ch = channel(tls);
        SSLEngine client = client("m.example", "acme-tls/1");
        byte[] records = reframed(clientHello(client), 3);
        int half = records.length / 2;
        ch.writeInbound(Unpooled.wrappedBuffer(records, 0, half));
        assertThat(ch.pipeline().get(ServerTls.TLS_HANDLER)).isInstanceOf(ManagedSniHandler.class);
        ch.writeInbound(Unpooled.wrappedBuffer(records, half, records.length - half));
        assertThat(ch.pipeline().get("acme-tls-1")).isInstanceOf(ManagedSniHandler.ChallengeCloser.class);
        finish(ch, client);
        assertThat(client.getApplicationProtocol()).isEqualTo("acme-tls/1");
        assertThat(cn(client)).isEqualTo("m.example");
        assertThat(client.getSession().getPeerCertificates()[0]).isEqualTo(challengePair.chain().get(0));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void anAcmeTlsHandshakeWaitsForTheChallengeAnotherFleetMemberPublished() throws Exception {
        ManagedCertificates managed = new ManagedCertificates();
        ServerTls tls = listener(managed, true);
        managed.install(List.of("m.example"), managedPair.privateKey(), managedPair.chain());
        CompletableFuture<SharedAlpnChallenges.ChallengeCertificate> published = new CompletableFuture<>();
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        managed.shareAlpnChallenges(name -> {
            asked.add(name);
            return published;
        });
        EmbeddedChannel ch = channel(tls);
        SSLEngine client = client("m.example", "acme-tls/1");
        ch.writeInbound(Unpooled.wrappedBuffer(clientHello(client)));
        assertThat(asked).containsExactly("m.example");
        assertThat(ch.pipeline().get(ServerTls.TLS_HANDLER)).isInstanceOf(ManagedSniHandler.class); // waiting, not blocking
        assertThat((Object) ch.readOutbound()).isNull();

        SharedAlpnChallenges.ChallengeCertificate found = new SharedAlpnChallenges.ChallengeCertificate(challengePair.privateKey(),
                challengePair.chain().get(0));
        Thread redis = new Thread(() -> published.complete(found)); // Lettuce completes lookups on a thread of its own
        redis.start();
        redis.join(10_000);
        ch.runPendingTasks();
        assertThat(ch.pipeline().get("acme-tls-1")).isInstanceOf(ManagedSniHandler.ChallengeCloser.class);
        finish(ch, client);
        assertThat(client.getApplicationProtocol()).isEqualTo("acme-tls/1");
        assertThat(client.getSession().getPeerCertificates()[0]).isEqualTo(challengePair.chain().get(0));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void withNoChallengePublishedAnAcmeTlsHandshakeIsChosenAsBefore() throws Exception {
        ManagedCertificates managed = new ManagedCertificates();
        ServerTls tls = listener(managed, true);
        managed.install(List.of("m.example"), managedPair.privateKey(), managedPair.chain());
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<SharedAlpnChallenges.ChallengeCertificate> none = new CompletableFuture<>();
        managed.shareAlpnChallenges(name -> {
            asked.add(name);
            return none;
        });
        EmbeddedChannel ch = channel(tls);
        SSLEngine client = client("m.example", "acme-tls/1", "h2");
        ch.writeInbound(Unpooled.wrappedBuffer(clientHello(client)));
        none.complete(null);
        ch.runPendingTasks();
        assertThat(cn(finish(ch, client))).isEqualTo("m.example");
        assertThat(client.getSession().getPeerCertificates()[0]).isEqualTo(managedPair.chain().get(0));
        ch.finishAndReleaseAll();

        // Not asked: a name the listener does not manage, a handshake without acme-tls/1, one with a challenge of this process.
        for (SSLEngine other : List.of(client("static-default.example", "acme-tls/1"), client("m.example", "h2"))) {
            EmbeddedChannel c = channel(tls);
            c.writeInbound(Unpooled.wrappedBuffer(clientHello(other)));
            finish(c, other);
            c.finishAndReleaseAll();
        }
        managed.addAlpnChallenge("m.example", challengePair.privateKey(), challengePair.chain().get(0));
        SSLEngine local = client("m.example", "acme-tls/1");
        EmbeddedChannel c = channel(tls);
        c.writeInbound(Unpooled.wrappedBuffer(clientHello(local)));
        finish(c, local);
        assertThat(local.getSession().getPeerCertificates()[0]).isEqualTo(challengePair.chain().get(0));
        c.finishAndReleaseAll();
        assertThat(asked).containsExactly("m.example");
    }

    @Test
    void withNothingToServeOrAMalformedHelloTheClientGetsAnAlert() throws Exception {
        ManagedCertificates managed = new ManagedCertificates();
        ServerTls tls = listener(managed, false);
        assertThat(tls.certificateReady()).isFalse();
        EmbeddedChannel ch = channel(tls);
        ch.writeInbound(Unpooled.wrappedBuffer(clientHello(client("m.example", "h2"))));
        assertThat(alert(ch)).isEqualTo(ManagedSniHandler.UNRECOGNIZED_NAME);
        assertThat(ch.isOpen()).isFalse();
        assertThat(tls.handshakesFailed(ServerTls.HandshakeFailure.CERTIFICATE)).isEqualTo(1);
        ch.finishAndReleaseAll();

        byte[] broken = clientHello(client("m.example", "h2"));
        broken[9 + 2 + 32] = 33; // a session id longer than TLS allows
        EmbeddedChannel second = channel(tls);
        second.writeInbound(Unpooled.wrappedBuffer(broken));
        assertThat(alert(second)).isEqualTo(ManagedSniHandler.DECODE_ERROR);
        assertThat(second.isOpen()).isFalse();
        assertThat(tls.handshakesFailed(ServerTls.HandshakeFailure.OTHER)).isEqualTo(1);
        second.finishAndReleaseAll();

        // Installed: the same listener serves it.
        managed.install(List.of("m.example"), managedPair.privateKey(), managedPair.chain());
        assertThat(tls.certificateReady()).isTrue();
        EmbeddedChannel third = channel(tls);
        SSLEngine client = client("m.example", "h2");
        third.writeInbound(Unpooled.wrappedBuffer(clientHello(client)));
        assertThat(cn(finish(third, client))).isEqualTo("m.example");
        assertThat(client.getApplicationProtocol()).isEqualTo("h2");
        third.finishAndReleaseAll();
    }

    /** The description of the one fatal alert record the channel wrote. */
    private static int alert(EmbeddedChannel ch) {
        ByteBuf out = ch.readOutbound();
        try {
            assertThat(out.readableBytes()).isEqualTo(7);
            assertThat(out.getByte(0)).isEqualTo((byte) 0x15);
            assertThat(out.getByte(5)).isEqualTo((byte) 2);
            return out.getUnsignedByte(6);
        } finally {
            out.release();
        }
    }

    @Test
    void alpnNamesAreComparedWhole() {
        for (String name : List.of("acme-tls/1", "acme-tls/2", "acme-tls/12", "acme-tls/")) {
            ByteBuf hello = helloWithAlpn(name);
            assertThat(ClientHello.parse(hello).offersAcmeTls()).as(name).isEqualTo(name.equals("acme-tls/1"));
            hello.release();
        }
    }

    /** A minimal ClientHello body with one ALPN extension offering {@code protocol}. */
    private static ByteBuf helloWithAlpn(String protocol) {
        byte[] p = protocol.getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = Unpooled.buffer();
        b.writeShort(0x0303).writeZero(32).writeByte(0).writeShort(2).writeShort(0x1301).writeByte(1).writeByte(0);
        b.writeShort(4 + 2 + 1 + p.length);
        b.writeShort(16).writeShort(2 + 1 + p.length).writeShort(1 + p.length).writeByte(p.length).writeBytes(p);
        return b;
    }
}
