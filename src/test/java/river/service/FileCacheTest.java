package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Eventually;
import river.testsupport.OpenDescriptors;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;

/**
 * The file server's open-file cache through River: hits answer from the file opened first (also after
 * it was replaced or deleted on disk, until valid-ms), a fresh lookup after valid-ms sees the change,
 * ranges and conditionals are answered from the cache, and its descriptors stay bounded.
 */
class FileCacheTest {
    @TempDir
    static Path dir;
    static RiverHarness river;
    static Path held;
    static Path fresh;
    static Path variants;
    static Path zipped;

    @BeforeAll
    static void start() throws Exception {
        held = Files.createDirectories(dir.resolve("held"));
        fresh = Files.createDirectories(dir.resolve("fresh"));
        variants = Files.createDirectories(dir.resolve("variants"));
        zipped = Files.createDirectories(dir.resolve("zipped"));
        river = RiverHarness.start("""
                services {
                    held {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "held"
                            open-file-cache max=4 valid-ms=3600000
                        }
                    }
                    fresh {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "fresh"
                            open-file-cache max=4 valid-ms=1
                        }
                    }
                    variants {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "variants"
                            precompressed true
                            open-file-cache valid-ms=3600000
                        }
                    }
                    zipped {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "zipped"
                            open-file-cache valid-ms=3600000
                        }
                        compression {
                            enabled true
                            algorithms "gzip"
                        }
                    }
                }
                """, dir);
    }

    @AfterAll
    static void stop() {
        river.close();
    }

    static RawHttp.Response get(String service, String path, String... headers) throws Exception {
        try (RawHttp raw = new RawHttp(river.port(service))) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\n" + String.join("", headers) + "\r\n");
            return raw.read();
        }
    }

    static void replace(Path file, String content) throws Exception {
        Path tmp = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aHitAnswersFromTheFileOpenedFirstUntilValidMs() throws Exception {
        Path a = Files.writeString(held.resolve("a.txt"), "one");
        RawHttp.Response first = get("held", "/a.txt");
        assertThat(first.text()).isEqualTo("one");
        String etag = first.headers().get("etag");
        replace(a, "two!");
        RawHttp.Response second = get("held", "/a.txt");
        assertThat(second.text()).isEqualTo("one");
        assertThat(second.headers().get("etag")).isEqualTo(etag);
        assertThat(get("held", "/a.txt", "If-None-Match: " + etag + "\r\n").status()).isEqualTo(304);
        RawHttp.Response range = get("held", "/a.txt", "Range: bytes=1-2\r\n");
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.text()).isEqualTo("ne");
        assertThat(range.headers().get("content-range")).isEqualTo("bytes 1-2/3");
        RawHttp.Response ranges = get("held", "/a.txt", "Range: bytes=0-0,2-2\r\n");
        assertThat(ranges.status()).isEqualTo(206);
        assertThat(ranges.headers().get("content-type")).startsWith("multipart/byteranges");
        // Several ranges are looked up in the pool, and that lookup refreshed the entry: now the new file.
        assertThat(get("held", "/a.txt").text()).isEqualTo("two!");
        Files.delete(a);
        assertThat(get("held", "/a.txt").text()).isEqualTo("two!");
        assertThat(OpenDescriptors.on(a)).isEqualTo(1); // the deleted file, held open by the cache
    }

    @Test
    void aFileReplacedOrDeletedOnDiskIsSeenAfterValidMs() throws Exception {
        Path b = Files.writeString(fresh.resolve("b.txt"), "one");
        assertThat(get("fresh", "/b.txt").text()).isEqualTo("one");
        replace(b, "two!");
        Eventually.await(() -> text("fresh", "/b.txt").equals("two!"), 10_000);
        assertThat(OpenDescriptors.on(b)).isLessThanOrEqualTo(1);
        Files.delete(b);
        Eventually.await(() -> status("fresh", "/b.txt") == 404, 10_000);
        Eventually.await(() -> OpenDescriptors.onQuietly(b) == 0, 10_000);
    }

    @Test
    void descriptorsStayBoundedAndAClientLeavingMidTransferReleasesItsHold() throws Exception {
        byte[] big = new byte[8 * 1024 * 1024];
        Path c = Files.write(held.resolve("big.bin"), big);
        // Two clients start the same big cached file and leave without reading it.
        for (int i = 0; i < 2; i++) {
            try (Socket s = new Socket("127.0.0.1", river.port("held"))) {
                s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                assertThat(in.read(new byte[100])).isPositive();
            }
        }
        assertThat(OpenDescriptors.on(c)).isEqualTo(1); // shared by both transfers and the cache
        // Six other files evict it: once the aborted transfers have released their holds, it is closed.
        for (int i = 0; i < 6; i++) {
            Files.writeString(held.resolve(i + ".txt"), "file " + i);
            assertThat(get("held", "/" + i + ".txt").text()).isEqualTo("file " + i);
        }
        Eventually.await(() -> OpenDescriptors.onQuietly(c) == 0, 10_000);
        long cached = 0;
        for (int i = 0; i < 6; i++) {
            cached += OpenDescriptors.on(held.resolve(i + ".txt"));
        }
        assertThat(cached).isLessThanOrEqualTo(4);
        assertThat(get("held", "/big.bin").body()).hasSize(big.length);
        assertThat(OpenDescriptors.on(c)).isEqualTo(1);
    }

    @Test
    void eachAcceptEncodingKeepsItsOwnVariantFromTheCache() throws Exception {
        Files.writeString(variants.resolve("app.js"), "plain");
        Files.writeString(variants.resolve("app.js.gz"), "gzipped");
        for (int i = 0; i < 2; i++) { // the second time from the cache
            RawHttp.Response gz = get("variants", "/app.js", "Accept-Encoding: gzip\r\n");
            assertThat(gz.text()).isEqualTo("gzipped");
            assertThat(gz.headers().get("content-encoding")).isEqualTo("gzip");
            assertThat(gz.headers().get("vary")).isEqualToIgnoringCase("accept-encoding");
            assertThat(gz.headers().get("etag")).endsWith("-gzip\"");
            RawHttp.Response plain = get("variants", "/app.js");
            assertThat(plain.text()).isEqualTo("plain");
            assertThat(plain.headers()).doesNotContainKey("content-encoding");
            assertThat(plain.headers().get("vary")).isEqualToIgnoringCase("accept-encoding");
            assertThat(get("variants", "/app.js", "If-None-Match: " + gz.headers().get("etag") + "\r\nAccept-Encoding: gzip\r\n")
                    .status()).isEqualTo(304);
        }
    }

    @Test
    void aCachedFileCompressedOnTheFlyIsReadThroughItsLease() throws Exception {
        String page = "<p>" + "river ".repeat(2000) + "</p>";
        Path f = Files.writeString(zipped.resolve("page.html"), page);
        for (int i = 0; i < 3; i++) { // the first from the pool, then from the cache
            RawHttp.Response r = get("zipped", "/page.html", "Accept-Encoding: gzip\r\n");
            assertThat(r.headers().get("content-encoding")).isEqualTo("gzip");
            try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(r.body()))) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(page);
            }
        }
        Eventually.await(() -> OpenDescriptors.onQuietly(f) == 1, 10_000);
    }

    static String text(String service, String path) {
        try {
            return get(service, path).text();
        } catch (Exception e) {
            return "";
        }
    }

    static int status(String service, String path) {
        try {
            return get(service, path).status();
        } catch (Exception e) {
            return -1;
        }
    }
}
