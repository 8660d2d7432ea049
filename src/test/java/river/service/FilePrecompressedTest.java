package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import river.testsupport.RiverHarness;

/** Precompressed variants beside a file, chosen by Accept-Encoding, seen by curl through a real River. */
class FilePrecompressedTest {
    @TempDir
    static Path dir;
    static RiverHarness river;
    static int on;
    static int off;

    @BeforeAll
    static void start() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        // The variants' bytes are markers, not real compressed data: curl is not asked to decode them.
        Files.writeString(site.resolve("app.js"), "original");
        Files.writeString(site.resolve("app.js.br"), "brotli-bytes");
        Files.writeString(site.resolve("app.js.zst"), "zstd-bytes");
        Files.writeString(site.resolve("app.js.gz"), "gzip-bytes");
        Files.writeString(site.resolve("only-gz.css"), "original css");
        Files.writeString(site.resolve("only-gz.css.gz"), "gzip css");
        Files.writeString(dir.resolve("outside.gz"), "outside");
        Files.writeString(site.resolve("escape.txt"), "inside");
        Files.createSymbolicLink(site.resolve("escape.txt.gz"), dir.resolve("outside.gz"));
        river = RiverHarness.start("""
                services {
                    on {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                            precompressed true
                        }
                    }
                    off {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                }
                """, dir);
        on = river.port("on");
        off = river.port("off");
    }

    @AfterAll
    static void stop() {
        river.close();
    }

    static FileSemanticsTest.Reply curl(int port, String path, String... headers) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>();
        for (String h : headers) {
            args.add("-H");
            args.add(h);
        }
        args.add("http://127.0.0.1:" + port + path);
        return FileSemanticsTest.curl(args.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "gzip|gzip|gzip-bytes",
        "br, gzip|br|brotli-bytes",
        "gzip, deflate, br, zstd|br|brotli-bytes",
        "zstd|zstd|zstd-bytes",
        "gzip;q=1, br;q=0.5|gzip|gzip-bytes",
        "br;q=0, zstd;q=0.8, gzip;q=0.9|gzip|gzip-bytes",
        "*|br|brotli-bytes",
        "*, br;q=0|zstd|zstd-bytes",
        "identity|-|original",
        "deflate|-|original",
        "gzip;q=0|-|original",
    })
    void theBestAcceptedVariantIsSent(String accept, String encoding, String body) throws Exception {
        FileSemanticsTest.Reply r = curl(on, "/app.js", "Accept-Encoding: " + accept);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo(body);
        assertThat(r.header("content-encoding")).isEqualTo(encoding.equals("-") ? null : encoding);
        assertThat(r.header("content-type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(r.header("vary")).isEqualTo("accept-encoding");
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(body.length()));
    }

    @Test
    void eachVariantHasItsOwnEtagAndRanges() throws Exception {
        FileSemanticsTest.Reply br = curl(on, "/app.js", "Accept-Encoding: br");
        FileSemanticsTest.Reply gz = curl(on, "/app.js", "Accept-Encoding: gzip");
        FileSemanticsTest.Reply plain = curl(on, "/app.js");
        assertThat(br.header("etag")).endsWith("-br\"");
        assertThat(gz.header("etag")).endsWith("-gzip\"");
        assertThat(java.util.Set.of(br.header("etag"), gz.header("etag"), plain.header("etag"))).hasSize(3);
        assertThat(curl(on, "/app.js", "Accept-Encoding: br", "If-None-Match: " + br.header("etag")).status()).isEqualTo(304);
        assertThat(curl(on, "/app.js", "Accept-Encoding: gzip", "If-None-Match: " + br.header("etag")).status()).isEqualTo(200);
        FileSemanticsTest.Reply part = curl(on, "/app.js", "Accept-Encoding: br", "Range: bytes=0-5");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.text()).isEqualTo("brotli");
        assertThat(part.header("content-range")).isEqualTo("bytes 0-5/12");
        assertThat(part.header("content-encoding")).isEqualTo("br");
    }

    @Test
    void missingVariantsSymlinksOutAndTheDefaultServeTheOriginal() throws Exception {
        assertThat(curl(on, "/only-gz.css", "Accept-Encoding: br").text()).isEqualTo("original css");
        assertThat(curl(on, "/only-gz.css", "Accept-Encoding: br, gzip").text()).isEqualTo("gzip css");
        FileSemanticsTest.Reply escape = curl(on, "/escape.txt", "Accept-Encoding: gzip");
        assertThat(escape.text()).isEqualTo("inside");
        assertThat(escape.header("content-encoding")).isNull();
        FileSemanticsTest.Reply offByDefault = curl(off, "/app.js", "Accept-Encoding: br, gzip");
        assertThat(offByDefault.text()).isEqualTo("original");
        assertThat(offByDefault.header("vary")).isNull();
    }
}
