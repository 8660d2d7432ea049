package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverHarness;

/** The file server's serving options: index files, listing, error pages, redirects, dotfiles, types, Cache-Control. */
class FileServingTest {
    @TempDir
    static Path dir;
    static RiverHarness river;
    static int listed;
    static int plain;
    static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        Files.createDirectories(site.resolve("home"));
        Files.writeString(site.resolve("home/default.htm"), "<h1>default</h1>");
        Files.createDirectories(site.resolve("bare"));
        Files.writeString(site.resolve("bare/<b>&\"x\".txt"), "odd");
        Files.writeString(site.resolve("bare/a b.txt"), "spaced");
        Files.writeString(site.resolve("bare/.hidden"), "secret");
        Files.createDirectories(site.resolve("bare/sub"));
        Files.writeString(site.resolve(".env"), "SECRET=1");
        Files.createDirectories(site.resolve(".git"));
        Files.writeString(site.resolve(".git/config"), "[core]");
        Files.createDirectories(site.resolve(".well-known"));
        Files.writeString(site.resolve(".well-known/security.txt"), "Contact: x");
        Files.createDirectories(site.resolve("assets"));
        Files.writeString(site.resolve("assets/app.css"), "body{}");
        Files.writeString(site.resolve("data.json"), "{}");
        Files.writeString(site.resolve("image.svg"), "<svg/>");
        Files.writeString(site.resolve("photo.jpg"), "jpg");
        Files.writeString(dir.resolve("404.html"), "<h1>nothing here</h1>");
        river = RiverHarness.start("""
                services {
                    listed {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                            index-files "index.html" "default.htm"
                            directory-listing true
                            error-page 404 "404.html"
                            cache-control "/assets/**" "public, max-age=31536000, immutable"
                            cache-control "/*.json" "no-cache"
                        }
                    }
                    plain {
                        listeners {
                            "127.0.0.1:0"
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                }
                """, dir);
        listed = river.port("listed");
        plain = river.port("plain");
    }

    @AfterAll
    static void stop() {
        river.close();
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void indexFilesAreTriedInOrder() throws Exception {
        assertThat(get(listed, "/home/").body()).isEqualTo("<h1>default</h1>");
        assertThat(get(plain, "/home/").statusCode()).as("default index-files is index.html only").isEqualTo(403);
    }

    @Test
    void listingIsSortedEscapedAndOffByDefault() throws Exception {
        FileSemanticsTest.Reply r = curl(listed, "/bare/");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("text/html; charset=utf-8");
        String html = r.text();
        assertThat(html).contains("<a href=\"%3Cb%3E%26%22x%22.txt\">&lt;b&gt;&amp;&quot;x&quot;.txt</a>");
        assertThat(html).doesNotContain("<b>").doesNotContain(".hidden");
        assertThat(html).contains("<a href=\"a%20b.txt\">a b.txt</a>").contains("<a href=\"sub/\">sub/</a>");
        assertThat(html.indexOf("&lt;b&gt;")).isLessThan(html.indexOf("a b.txt"));
        assertThat(html.indexOf("a b.txt")).isLessThan(html.indexOf("sub/"));
        assertThat(get(plain, "/bare/").statusCode()).isEqualTo(403);
    }

    @Test
    void directoriesRedirectToTheirSlashKeepingTheQuery() throws Exception {
        FileSemanticsTest.Reply r = curl(listed, "/home?x=1&y=2");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.header("location")).isEqualTo("/home/?x=1&y=2");
        HttpResponse<String> followed = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plain + "/bare?q")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(followed.uri().toString()).endsWith("/bare/?q");
    }

    @Test
    void dotfilesAreHiddenButWellKnownIsServed() throws Exception {
        assertThat(curl(plain, "/.env").status()).isEqualTo(404);
        assertThat(get(plain, "/.git/config").statusCode()).isEqualTo(404);
        assertThat(get(plain, "/bare/.hidden").statusCode()).isEqualTo(404);
        assertThat(get(plain, "/%2eenv").statusCode()).as("encoded dot").isEqualTo(404);
        assertThat(get(plain, "/.well-known/security.txt").body()).isEqualTo("Contact: x");
    }

    @Test
    void notFoundUsesTheConfiguredPage() throws Exception {
        HttpResponse<String> r = get(listed, "/nope");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).isEqualTo("<h1>nothing here</h1>");
        assertThat(r.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(get(plain, "/nope").body()).isEqualTo("404 Not Found\n");
    }

    @Test
    void typesCacheControlAndNosniff() throws Exception {
        HttpResponse<String> css = get(listed, "/assets/app.css");
        assertThat(css.headers().firstValue("content-type")).hasValue("text/css; charset=utf-8");
        assertThat(css.headers().firstValue("cache-control")).hasValue("public, max-age=31536000, immutable");
        assertThat(css.headers().firstValue("x-content-type-options")).hasValue("nosniff");
        HttpResponse<String> json = get(listed, "/data.json");
        assertThat(json.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        assertThat(json.headers().firstValue("cache-control")).hasValue("no-cache");
        assertThat(get(listed, "/image.svg").headers().firstValue("content-type")).hasValue("image/svg+xml; charset=utf-8");
        HttpResponse<String> jpg = get(listed, "/photo.jpg");
        assertThat(jpg.headers().firstValue("content-type")).hasValue("image/jpeg");
        assertThat(jpg.headers().firstValue("cache-control")).isEmpty();
        assertThat(get(plain, "/assets/app.css").headers().firstValue("cache-control")).isEmpty();
    }

    static FileSemanticsTest.Reply curl(int port, String path) throws Exception {
        return FileSemanticsTest.curl("http://127.0.0.1:" + port + path);
    }
}
