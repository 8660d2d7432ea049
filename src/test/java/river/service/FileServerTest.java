package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;

/** River's file server: files, types, index pages, and no way out of base-path. */
class FileServerTest {
    @TempDir
    static Path dir;
    static RiverHarness river;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        Files.writeString(site.resolve("index.html"), "<h1>home</h1>");
        Files.writeString(site.resolve("app.js"), "console.log(1)");
        Files.createDirectories(site.resolve("docs"));
        Files.writeString(site.resolve("docs/index.html"), "<h1>docs</h1>");
        Files.writeString(site.resolve("docs/a b.txt"), "spaced");
        Files.writeString(dir.resolve("secret.txt"), "outside the base");
        Files.createSymbolicLink(site.resolve("escape.txt"), dir.resolve("secret.txt"));
        Files.createSymbolicLink(site.resolve("escape-dir"), dir);
        Files.createSymbolicLink(site.resolve("inside.js"), site.resolve("app.js"));
        river = RiverHarness.start("""
                services {
                    files {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                }
                """, dir);
        port = river.port("files");
    }

    @AfterAll
    static void stop() {
        river.close();
    }

    private static RawHttp.Response request(String method, String path) throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send(method + " " + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
            return raw.read(method.equals("HEAD"));
        }
    }

    @Test
    void servesFilesWithTheirTypeAndLength() throws Exception {
        RawHttp.Response js = request("GET", "/app.js");
        assertThat(js.status()).isEqualTo(200);
        assertThat(js.headers().get("content-type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(js.headers().get("content-length")).isEqualTo("14");
        assertThat(js.text()).isEqualTo("console.log(1)");
        assertThat(request("GET", "/docs/a%20b.txt").text()).isEqualTo("spaced");
        assertThat(request("GET", "/inside.js").text()).isEqualTo("console.log(1)");
    }

    @Test
    void headHasLengthButNoBody() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("HEAD /app.js HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response r = raw.read(true);
            assertThat(r.headers().get("content-length")).isEqualTo("14");
            raw.send("GET /app.js HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(raw.read().text()).isEqualTo("console.log(1)");
        }
    }

    @Test
    void directoriesServeTheirIndex() throws Exception {
        assertThat(request("GET", "/").text()).isEqualTo("<h1>home</h1>");
        assertThat(request("GET", "/docs/").text()).isEqualTo("<h1>docs</h1>");
        RawHttp.Response redirect = request("GET", "/docs");
        assertThat(redirect.status()).isEqualTo(301);
        assertThat(redirect.headers().get("location")).isEqualTo("/docs/");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/docs/..%5c..%5csecret.txt", "/app.js%00.html",
    })
    void climbsEncodedSeparatorsAndNulAreRefusedBeforeTheFileServer(String path) throws Exception {
        // Normalization (on by default) refuses climbs above the root, encoded separators and NUL
        // with an empty 400 before the file server sees them.
        RawHttp.Response r = request("GET", path);
        assertThat(r.status()).as(path).isEqualTo(400);
        assertThat(r.body()).as(path).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/%252e%252e/secret.txt", "/escape.txt", "/escape-dir/secret.txt", "/nope.txt", "/%c0%ae%c0%ae/secret.txt",
    })
    void whatGetsThroughButIsOutsideBaseOrMissingIsNotFound(String path) throws Exception {
        // Double-encoded and overlong dots are literal names; symlinks out of base-path are not followed.
        RawHttp.Response r = request("GET", path);
        assertThat(r.status()).as(path).isEqualTo(404);
        assertThat(r.text()).as(path).isEqualTo("404 Not Found\n");
    }

    @Test
    void otherMethodsGet405() throws Exception {
        RawHttp.Response r = request("DELETE", "/app.js");
        assertThat(r.status()).isEqualTo(405);
        assertThat(r.headers().get("allow")).isEqualTo("GET, HEAD, OPTIONS");
    }
}
