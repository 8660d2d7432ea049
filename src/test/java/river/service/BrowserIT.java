package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import river.testsupport.Chromium;
import river.testsupport.FileWait;
import river.testsupport.Ports;
import river.testsupport.RiverProcess;
import river.testsupport.TestPki;

/**
 * A real browser on River's file server (issue 16): headless Chromium, driven through the DevTools
 * protocol, loads a page with an image, a stylesheet and a video through the packaged River, seeks
 * the video to the middle (byte ranges: 206 with {@code Content-Range}) and reloads the page, which
 * revalidates the image and the stylesheet (304: {@code Cache-Control: no-cache} makes the browser
 * ask each time). What the browser saw is checked in its network log and in River's access log.
 * Twice: over cleartext HTTP/1.1 (sendfile) and over TLS with HTTP/2 (files in chunks), the test
 * certificate for {@code river.test} taken as valid through its public key (see
 * {@link Chromium#trusting}).
 *
 * <p>The site is {@code src/test/resources/browser/}. {@code clip.webm} (18,540 bytes) was made once
 * with ffmpeg 5.1 (Debian 12), which CI does not need:
 * {@code ffmpeg -f lavfi -i testsrc=size=160x120:rate=10:duration=4 -c:v libvpx-vp9 -b:v 40k -g 10
 * -pix_fmt yuv420p -an -fflags +bitexact -flags +bitexact clip.webm} (4 s, VP9, a key frame every
 * second); {@code logo.png} the same way ({@code testsrc=size=32x32:rate=1 -frames:v 1 logo.png}).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BrowserIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> SITE = List.of("index.html", "style.css", "logo.png", "clip.webm");
    /** The site's files as the page asks for them. */
    static final List<String> SITE_PATHS = List.of("", "style.css", "logo.png", "clip.webm");

    @TempDir
    Path dir;

    /** How the browser reaches River. */
    enum Transport {
        /** HTTP/1.1 without TLS: files go out with sendfile. */
        CLEARTEXT_HTTP1("http/1.1"),
        /** HTTP/2 over TLS (ALPN): files go out in bounded chunks. */
        TLS_HTTP2("h2");

        final String protocol;

        Transport(String protocol) {
            this.protocol = protocol;
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void chromiumLoadsThePageSeeksTheVideoWithRangesAndRevalidatesOnReload(Transport transport) throws Exception {
        assumeTrue(Chromium.installed(), Chromium.BINARY + " is not installed (Debian's chromium package; .ci/run installs it)");
        Path site = Files.createDirectories(dir.resolve("site"));
        for (String name : SITE) {
            try (InputStream in = Objects.requireNonNull(BrowserIT.class.getResourceAsStream("/browser/" + name), name)) {
                Files.copy(in, site.resolve(name));
            }
        }
        long videoSize = Files.size(site.resolve("clip.webm"));
        int port = Ports.free();
        String listener = "\"127.0.0.1:" + port + "\"";
        String base = "http://127.0.0.1:" + port + "/";
        String[] switches = {};
        int cleartextPort = port; // for RiverProcess's leak check, which asks in cleartext
        if (transport == Transport.TLS_HTTP2) {
            TestPki.Pair certificate = TestPki.server("river.test").copyTo(dir, "river");
            cleartextPort = Ports.free();
            listener += " cert-path=\"" + certificate.cert() + "\" key-path=\"" + certificate.key() + "\"\n"
                    + "\"127.0.0.1:" + cleartextPort + "\"";
            base = "https://river.test:" + port + "/";
            switches = Chromium.trusting("river.test", certificate.cert());
        }
        Files.writeString(dir.resolve("river.kdl"), """
                system {
                    threads-per-service 1
                    access-log "stdout" format="json"
                }
                services {
                    www {
                        listeners {
                            %s
                        }
                        file-server {
                            base-path "%s"
                            cache-control "/**" "no-cache"
                        }
                    }
                }
                """.formatted(listener, site));
        Path browserDir = Files.createDirectories(dir.resolve("chromium"));

        try (RiverProcess.Running river = RiverProcess.startLogged(dir, dir, List.of(), "--config-kdl", "river.kdl")) {
            river.awaitListening(transport == Transport.TLS_HTTP2 ? 2 : 1);
            try (Chromium chromium = Chromium.start(browserDir, switches)) {
                String tab = chromium.openTab();
                chromium.call(tab, "Runtime.addBinding", Chromium.params().put("name", "riverReport"));
                chromium.call(tab, "Runtime.enable", null);
                chromium.call(tab, "Network.enable", null);
                chromium.call(tab, "Page.enable", null);

                // First visit: everything is new; the video element asks for a range (Range: bytes=0-).
                int first = chromium.eventCount();
                chromium.call(tab, "Page.navigate", Chromium.params().put("url", base));
                assertSeeked(awaitReport(chromium, first));
                Map<String, Exchange> loaded = responses(chromium, first, base);
                for (Exchange e : loaded.values()) {
                    assertThat(e.protocol()).as("%s", e).isEqualTo(transport.protocol);
                }
                for (String path : List.of("", "style.css", "logo.png")) {
                    assertThat(loaded.get(path).wireStatus()).as("%s", loaded.get(path)).isEqualTo(200);
                }
                Exchange video = loaded.get("clip.webm");
                assertThat(video.requestHeader("range")).as("the video element's request, %s", video).startsWith("bytes=");
                assertThat(video.wireStatus()).as("%s", video).isEqualTo(206);
                assertThat(video.wireHeader("content-range")).as("%s", video).matches("bytes \\d+-\\d+/" + videoSize);
                assertThat(video.wireHeader("accept-ranges")).as("%s", video).isEqualTo("bytes");

                // Reload: the browser has every file, and no-cache makes it ask whether each is still
                // current with the ETag River gave it; River answers 304 and the browser uses its copy.
                int second = chromium.eventCount();
                chromium.call(tab, "Page.reload", Chromium.params().put("ignoreCache", false));
                assertSeeked(awaitReport(chromium, second));
                Map<String, Exchange> reloaded = responses(chromium, second, base);
                for (String path : SITE_PATHS) {
                    Exchange again = reloaded.get(path);
                    assertThat(again.requestHeader("if-none-match")).as("the revalidation, %s", again).isEqualTo(loaded.get(path).wireHeader("etag"));
                    assertThat(again.wireStatus()).as("%s", again).isEqualTo(304);
                }
                Exchange videoAgain = reloaded.get("clip.webm");
                assertThat(videoAgain.status()).as("the video from the browser's cache, %s", videoAgain).isEqualTo(206);
                assertThat(header(videoAgain.headers(), "content-range")).as("%s", videoAgain).matches("bytes \\d+-\\d+/" + videoSize);
            }

            // River's side of the same exchanges, in its access log (written in batches, in the order requests end).
            List<String> expected = List.of("/ 200", "/style.css 200", "/logo.png 200", "/clip.webm 206",
                    "/ 304", "/style.css 304", "/logo.png 304", "/clip.webm 304");
            for (String line : expected) {
                String[] pathStatus = line.split(" ");
                river.awaitOutput("\"path\":\"" + pathStatus[0] + "\",\"status\":" + pathStatus[1] + ",", true);
            }
            List<String> access = new ArrayList<>();
            for (String line : Files.readAllLines(river.stdout())) {
                JsonNode l = JSON.readTree(line);
                access.add(l.path("path").asText() + " " + l.path("status").asInt());
            }
            assertThat(access).containsAll(expected).doesNotContain("/clip.webm 200");
            river.assertNoLeaks(cleartextPort);
        }
    }

    /** Waits for the page's report (a call of the binding riverReport) made after event {@code from}. */
    static JsonNode awaitReport(Chromium chromium, int from) throws InterruptedException, IOException {
        JsonNode call = chromium.awaitEvent(from, "riverReport from the page", e -> e.path("method").asText().equals("Runtime.bindingCalled")
                && e.path("params").path("name").asText().equals("riverReport"));
        return JSON.readTree(call.path("params").path("payload").asText());
    }

    static void assertSeeked(JsonNode report) {
        assertThat(report.path("event").asText()).as("the page's report %s", report).isEqualTo("seeked");
        double duration = report.path("duration").asDouble();
        assertThat(duration).as("the video's duration in %s", report).isBetween(3.9, 4.1);
        assertThat(report.path("currentTime").asDouble()).as("where the video was seeked to, %s", report).isBetween(duration / 2 - 0.2, duration / 2 + 0.2);
        assertThat(report.path("seekableEnd").asDouble()).as("the video's seekable range, %s", report).isGreaterThan(duration / 2);
        assertThat(report.path("imageWidth").asInt()).as("the image, %s", report).isEqualTo(32);
        assertThat(report.path("bodyColor").asText()).as("the stylesheet applied, %s", report).isEqualTo("rgb(1, 2, 3)");
    }

    /**
     * One exchange as the browser's network log has it: the status and headers the page was given
     * ({@code Network.responseReceived}: for a revalidated file, the copy from the cache), and the
     * request and response headers that went over the wire ({@code Network.requestWillBeSentExtraInfo},
     * {@code Network.responseReceivedExtraInfo}: the conditional request and its 304).
     */
    record Exchange(String url, String protocol, int status, JsonNode headers, JsonNode requestHeaders, int wireStatus, JsonNode wireHeaders) {
        String requestHeader(String name) {
            return header(requestHeaders, name);
        }

        String wireHeader(String name) {
            return header(wireHeaders, name);
        }

        @Override
        public String toString() {
            return url + " (" + protocol + "): " + status + ", request " + requestHeaders + ", wire " + wireStatus + " " + wireHeaders;
        }
    }

    /**
     * Waits until the browser has had the first response for each file of the site in the page load
     * that began after event {@code from}, with what went over the wire; returns them by path
     * (relative to {@code base}).
     */
    static Map<String, Exchange> responses(Chromium chromium, int from, String base) throws InterruptedException {
        Map<String, Exchange> byPath = new HashMap<>();
        String loader = null; // the page's load, which each file's request must belong to
        for (String path : SITE_PATHS) {
            String url = base + path;
            String page = loader;
            JsonNode received = chromium.awaitEvent(from, "a response for " + url, e -> e.path("method").asText().equals("Network.responseReceived")
                    && e.path("params").path("response").path("url").asText().equals(url)
                    && (page == null || e.path("params").path("loaderId").asText().equals(page))).get("params");
            loader = received.path("loaderId").asText();
            String id = received.path("requestId").asText();
            JsonNode sent = chromium.awaitEvent(from, "the request headers for " + url, e -> isFor(e, "Network.requestWillBeSentExtraInfo", id));
            JsonNode wire = chromium.awaitEvent(from, "the wire status for " + url, e -> isFor(e, "Network.responseReceivedExtraInfo", id));
            JsonNode response = received.path("response");
            byPath.put(path, new Exchange(url, response.path("protocol").asText(), response.path("status").asInt(), response.path("headers"), sent.path("params").path("headers"),
                    wire.path("params").path("statusCode").asInt(), wire.path("params").path("headers")));
        }
        return byPath;
    }

    private static boolean isFor(JsonNode event, String method, String requestId) {
        return event.path("method").asText().equals(method) && event.path("params").path("requestId").asText().equals(requestId);
    }

    /** A response header by name, whatever case the browser reports it in. */
    static String header(JsonNode headers, String name) {
        if (headers == null) {
            return null;
        }
        for (var f : headers.properties()) {
            if (f.getKey().equalsIgnoreCase(name)) {
                return f.getValue().asText();
            }
        }
        return null;
    }
}
