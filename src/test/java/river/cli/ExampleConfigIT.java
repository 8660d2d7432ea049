package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Ports;
import river.testsupport.RiverProcess;

/** The README's first command: River on examples/river.kdl serves the site and proxies to it. */
class ExampleConfigIT {
    @TempDir
    Path logs;

    @Test
    void bundledExampleServesAndProxies() throws Exception {
        Path project = Path.of("").toAbsolutePath();
        String kdl = Files.readString(project.resolve("examples/river.kdl"));
        // Same file, ephemeral ports, so the test never collides with a River the reader is running.
        Path config = logs.resolve("example.kdl");
        // The proxy must be told the site's port before either starts: take one that is free now.
        String site = "127.0.0.1:" + Ports.free();
        Files.writeString(config, kdl.replace("127.0.0.1:8081", site).replace("127.0.0.1:8080", "127.0.0.1:0")
                .replace("127.0.0.1:9901", "127.0.0.1:0"));
        try (RiverProcess.Running river = RiverProcess.startLogged(project, logs, List.of(), "--config-kdl", config.toString())) {
            List<Integer> ports = river.awaitListening(3);
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> proxied = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(0) + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(proxied.statusCode()).isEqualTo(200);
            assertThat(proxied.body()).contains("Hello from River");
            assertThat(proxied.headers().firstValue("x-with-love-from")).hasValue("river");
            assertThat(proxied.headers().firstValue("via")).hasValue("1.1 river");
            HttpResponse<String> css = client.send(HttpRequest.newBuilder(URI.create("http://" + site + "/style.css")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(css.headers().firstValue("content-type")).hasValue("text/css; charset=utf-8");
            // The access log is written asynchronously: wait for the proxy's line.
            river.awaitOutput("upstream=" + site, true);
            assertThat(Files.readString(river.stdout())).contains("service=proxy", "status=200", "upstream=" + site);
            // The admin listener (bound last) counts the proxied request.
            HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(2) + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"default\",service=\"proxy\"}");
            river.assertNoLeaks(ports.get(0));
        }
    }
}
