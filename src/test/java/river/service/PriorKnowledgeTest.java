package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Cleartext HTTP/2 with prior knowledge ({@code h2c=true}) beside HTTP/1.1 on one listener. */
class PriorKnowledgeTest {
    static TestOrigin origin;
    static RiverHarness river;
    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path dir;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        java.nio.file.Files.createDirectories(dir.resolve("site"));
        java.nio.file.Files.write(dir.resolve("site/big.bin"), new byte[3_000_000]);
        river = RiverHarness.start("""
                services {
                    files {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        file-server {
                            base-path "site"
                        }
                    }
                    proxy {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(origin.address()), dir);
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    private static String curl(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "curl";
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void curlWithPriorKnowledgeSpeaksHttp2AndTheOriginSeesPlainHttp() throws Exception {
        String url = "http://127.0.0.1:" + river.port("proxy") + "/echo/pk";
        String out = curl("-s", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}", url);
        assertThat(out).contains("GET /echo/pk").contains("x-forwarded-proto: http").endsWith("\n2 200");
        assertThat(out).doesNotContainIgnoringCase("x-http2-");
    }

    @Test
    void http11OnTheSameListenerStillWorks() throws Exception {
        String url = "http://127.0.0.1:" + river.port("proxy") + "/echo/h1";
        assertThat(curl("-s", "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url)).isEqualTo("1.1 200");
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("POST /echo/h1").contains("body-length: 5");
    }

    /**
     * Responses larger than curl's first window (64 KiB, before its SETTINGS raise it to 32 MiB), proxied
     * and from a file: with Netty's uniform flow-control distributor a file stalled at 65,536 bytes and
     * the event loop spun in writePendingBytes (found 2026-12-04; River uses the default distributor).
     */
    @Test
    void largeResponsesOverH2cArriveWholeOneAfterAnother() throws Exception {
        for (String url : new String[] {"http://127.0.0.1:" + river.port("proxy") + "/bytes?n=3000000",
                "http://127.0.0.1:" + river.port("files") + "/big.bin"}) {
            String out = curl("-s", "--http2-prior-knowledge", "--max-time", "20", "-o", "/dev/null", "-w", "%{size_download}", url);
            assertThat(out).as(url).isEqualTo("3000000");
        }
    }

    @Test
    void requestBodiesTravelOverH2c() throws Exception {
        String url = "http://127.0.0.1:" + river.port("proxy") + "/echo/upload";
        String out = curl("-s", "--http2-prior-knowledge", "--data-binary", "0123456789", url);
        assertThat(out).contains("POST /echo/upload").contains("body-length: 10");
    }

    @Test
    void h2loadBurstOverCleartextAllSucceeds() throws Exception {
        Process h2load = new ProcessBuilder("h2load", "-n", "2000", "-c", "4", "-m", "20",
                "http://127.0.0.1:" + river.port("proxy") + "/echo/burst").redirectErrorStream(true).start();
        String out = new String(h2load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(h2load.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("2000 succeeded, 0 failed", "Application protocol: h2c");
    }
}
