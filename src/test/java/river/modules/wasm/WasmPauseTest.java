package river.modules.wasm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.Eventually;
import river.testsupport.LogCapture;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Streams paused for call-outs and call-outs from the root context (src/test/resources/wasm/pause.wat),
 * through the real River in front of a real origin, a real inspection origin and a real data origin:
 * a request body sent for inspection and forwarded or refused by the answer, a paused stream the
 * plugin never continues (and one past pause-timeout-ms) failed rather than hung, a client leaving a
 * paused request, a response body paused while River stops reading the origin and then continued
 * whole, and a tick's call-out whose answer, stored in shared data, the requests then carry.
 */
class WasmPauseTest {
    static Path dir;
    static TestOrigin origin;
    static TestOrigin inspection;
    static TestOrigin data;
    static RiverHarness river;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        Wat.assumeWat2Wasm();
        dir = Files.createTempDirectory("river-wasm-pause");
        Path pause = Wat.compile("pause", dir);
        origin = new TestOrigin();
        inspection = new TestOrigin();
        data = new TestOrigin();
        log = LogCapture.of("river.modules.wasm");
        String inspect = " {\n        upstream \"inspect\" \"" + inspection.address() + "\"\n      }";
        String fetch = " {\n        upstream \"data\" \"" + data.address() + "\"\n      }";
        StringBuilder kdl = new StringBuilder("system {\n  threads-per-service 2\n}\nservices {\n");
        kdl.append(service("inspect", "wasm \"inspect\" path=\"" + pause + "\" config=\"iq\"" + inspect));
        kdl.append(service("ignore", "wasm \"ignore\" path=\"" + pause + "\" config=\"in\"" + inspect));
        kdl.append(service("quick-pause", "wasm \"quick-pause\" path=\"" + pause + "\" config=\"iq\" pause-timeout-ms=100" + inspect));
        kdl.append(service("pause-response", "wasm \"pause-response\" path=\"" + pause + "\" config=\"rp\" max-body-bytes=65536" + inspect));
        kdl.append(service("tick-fetch", "wasm \"tick-fetch\" path=\"" + pause + "\" config=\"tk\"" + fetch));
        kdl.append(service("root-calls", "wasm \"root-calls\" path=\"" + pause + "\" config=\"cl\" call-timeout-ms=2000" + fetch)); // the first call-outs load classes
        kdl.append(service("stall-headers", "wasm \"stall-headers\" path=\"" + pause + "\" config=\"hp\""));
        kdl.append(service("stall-headers-open", "wasm \"stall-headers-open\" path=\"" + pause + "\" config=\"hp\" fail-open=true"));
        kdl.append(service("body-answer", "wasm \"body-answer\" path=\"" + pause + "\" config=\"lb\""));
        kdl.append(service("trailers-pause", "wasm \"trailers-pause\" path=\"" + pause + "\" config=\"tp\"" + inspect));
        river = RiverHarness.start(kdl.append("}\n").toString());
    }

    private static String service(String name, String plugin) {
        return Wat.pluginService(name, origin.address(), plugin);
    }

    @AfterAll
    static void stop() throws Exception {
        Wat.closeAll(river, origin, inspection, data, log);
    }

    private static RawHttp.Response post(String service, String inspectAt, byte[] body) throws Exception {
        try (RawHttp c = new RawHttp(river.port(service))) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nx-inspect-path: " + inspectAt + "\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(body);
            return c.read();
        }
    }

    private static byte[] letters(int size) {
        byte[] body = new byte[size];
        for (int i = 0; i < size; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        return body;
    }

    @Test
    void aRequestBodySentForInspectionIsForwardedOrRefusedByTheAnswer() throws Exception {
        byte[] clean = letters(200_000);
        RawHttp.Response allowed = post("inspect", "/inspect?deny=attack", clean);
        assertThat(allowed.status()).as(allowed.text()).isEqualTo(200);
        TestOrigin.Seen inspected = inspection.lastSeen();
        assertThat(inspected.method() + " " + inspected.uri()).isEqualTo("POST /inspect?deny=attack");
        assertThat(inspected.bodySha256()).as("the inspection got the whole body").isEqualTo(TestOrigin.sha256(clean));
        TestOrigin.Seen forwarded = origin.lastSeen();
        assertThat(forwarded.bodySha256()).as("the origin got it unchanged").isEqualTo(TestOrigin.sha256(clean));
        assertThat(forwarded.headers().get("content-length")).isEqualTo("200000");

        byte[] attack = letters(200_000);
        System.arraycopy("attack".getBytes(StandardCharsets.US_ASCII), 0, attack, 123_456, 6);
        int before = origin.requestsReceived();
        RawHttp.Response refused = post("inspect", "/inspect?deny=attack", attack);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.text()).isEqualTo("rejected by inspection\n");
        assertThat(inspection.lastSeen().bodySha256()).isEqualTo(TestOrigin.sha256(attack));
        assertThat(origin.requestsReceived()).as("never forwarded").isEqualTo(before);
    }

    @Test
    void aPausedRequestItsPluginNeverContinuesIsFailedWhenItsCallOutTimesOut() throws Exception {
        int before = origin.requestsReceived();
        int logged = log.count("kept the request body paused after its last call-out answered");
        RawHttp.Response r = post("ignore", "/hang", letters(1000));
        assertThat(r.status()).isEqualTo(500);
        assertThat(log.count("kept the request body paused after its last call-out answered")).isEqualTo(logged + 1);
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void requestHeadersPausedWithNothingToResumeThemFailOrGoOnWhenFailOpen() throws Exception {
        int before = origin.requestsReceived();
        assertThat(river.get("stall-headers", "/echo", "").status()).isEqualTo(500);
        assertThat(origin.requestsReceived()).isEqualTo(before);
        assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("kept the request headers paused with no call-out in flight"));
        assertThat(river.get("stall-headers-open", "/echo", "").status()).isEqualTo(200);
    }

    @Test
    void aLocalResponseFromTheBodyCallbackAnswersTheRequest() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = post("body-answer", "/unused", letters(10_000));
        assertThat(r.status()).isEqualTo(451);
        assertThat(r.text()).isEqualTo("refused by the body callback\n");
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void trailersPausedForACallOutAreChangedByItsCallbackThenGoOn() throws Exception {
        try (RawHttp c = new RawHttp(river.port("trailers-pause"))) {
            c.send("POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n"
                    + "4\r\nbody\r\n0\r\nx-checksum: c0ffee\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            // The origin echoes the request's trailers: the call-out's callback added one while they waited.
            assertThat(r.trailers()).containsEntry("x-checksum", "c0ffee").containsEntry("x-inspected", "yes");
        }
        assertThat(inspection.lastSeen().uri()).isEqualTo("/status?code=200");
        assertThat(origin.lastSeen().bodySha256()).isEqualTo(TestOrigin.sha256("body".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aPausePastPauseTimeoutIsFailedWhileItsCallOutIsStillOut() throws Exception {
        int before = origin.requestsReceived();
        RawHttp.Response r = post("quick-pause", "/hang", letters(1000));
        assertThat(r.status()).isEqualTo(500);
        assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("kept the request body paused past pause-timeout-ms (100 ms)"));
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void aClientLeavingAPausedRequestLeavesNothingToAnswer() throws Exception {
        int before = origin.requestsReceived();
        int held = inspection.heldRequests();
        int done = log.count("stream done");
        try (RawHttp c = new RawHttp(river.port("inspect"))) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nx-inspect-path: /held\r\nContent-Length: 5000\r\n\r\n");
            c.send(letters(5000));
            Eventually.await(() -> inspection.heldRequests() == held + 1, 10_000); // the body is paused for it
        }
        log.await("stream done", done + 1);
        inspection.releaseHeld(); // the answer finds its stream gone, and its kept body released
        assertThat(origin.requestsReceived()).isEqualTo(before);
    }

    @Test
    void aResponseBodyPausedForACallOutStopsReadingTheOriginThenGoesOnWhole() throws Exception {
        long n = 48L * 1024 * 1024;
        int held = inspection.heldRequests();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> r = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + river.port("pause-response") + "/bytes?n=" + n)).build(),
                HttpResponse.BodyHandlers.ofInputStream()).get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as("the head went before the body paused").isEqualTo(200);
        // The client reads all along: only the pause keeps the body from it.
        AtomicLong received = new AtomicLong();
        MessageDigest got = MessageDigest.getInstance("SHA-256");
        CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
            try (InputStream in = r.body()) {
                byte[] buf = new byte[256 * 1024];
                int count;
                while ((count = in.read(buf)) != -1) {
                    got.update(buf, 0, count);
                    received.addAndGet(count);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Eventually.await(() -> inspection.heldRequests() == held + 1, 10_000);
        // Paused, River holds at most max-body-bytes for the plugin: the origin's socket fills up.
        Eventually.await(() -> origin.streamsWaitingToWrite() == 1, 30_000);
        assertThat(origin.bytesWritten.get()).as("written before the origin had to wait").isLessThan(32L * 1024 * 1024);
        assertThat(received.get()).as("nothing of the body reached the client while paused").isZero();

        inspection.releaseHeld();
        read.get(60, TimeUnit.SECONDS);
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[64 * 1024];
        for (long at = 0; at < n; at += block.length) {
            for (int i = 0; i < block.length; i++) {
                block[i] = TestOrigin.pattern(at + i);
            }
            expected.update(block, 0, (int) Math.min(block.length, n - at));
        }
        assertThat(received.get()).isEqualTo(n);
        assertThat(HexFormat.of().formatHex(got.digest())).isEqualTo(HexFormat.of().formatHex(expected.digest()));
    }

    @Test
    void aTickFetchesFromTheRootContextAndRequestsCarryWhatItStored() throws Exception {
        log.await("stored the fetched data");
        RawHttp.Response r = river.get("tick-fetch", "/echo", "");
        assertThat(r.status()).isEqualTo(200);
        StringBuilder noise = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            noise.append((char) TestOrigin.noise(i));
        }
        assertThat(origin.lastSeen().headers().get("x-fetched")).isEqualTo(noise.toString());
        assertThat(data.seen()).anySatisfy(s -> assertThat(s.uri()).isEqualTo("/bytes?n=16&noise=1"));
    }

    @Test
    void theRootContextsCallOutsAreBoundedPerVmAndAnsweredOnIt() throws Exception {
        // Each VM's proxy_on_configure sent 20: 16 went (two VMs), the rest were refused with BadArgument (2).
        Eventually.await(() -> data.heldRequests() == 2 * PluginVm.MAX_ROOT_CALLS, 10_000);
        RawHttp.Response r = river.get("root-calls", "/echo", "");
        assertThat(r.status()).isEqualTo(200);
        assertThat(origin.lastSeen().headers().get("x-root-calls")).isEqualTo("16 2");
        int answered = log.count("root call answered");
        data.releaseHeld();
        log.await("root call answered", answered + 2 * PluginVm.MAX_ROOT_CALLS);
    }
}
