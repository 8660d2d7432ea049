package river.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian's) as an origin on a loopback port, with one server block the test writes
 * ({@code %PORT%} in it becomes the port).
 */
public final class NginxOrigin implements AutoCloseable {
    private final int port;
    private final Process process;

    public NginxOrigin(Path dir, String serverBlock) throws IOException, InterruptedException {
        port = Ports.free();
        Path conf = dir.resolve("nginx-" + port + ".conf");
        Files.createDirectories(dir.resolve("nginx-tmp"));
        Files.writeString(conf, """
                worker_processes 1;
                daemon off;
                pid %s;
                error_log stderr warn;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path %s;
                    proxy_temp_path %s;
                    fastcgi_temp_path %s;
                    uwsgi_temp_path %s;
                    scgi_temp_path %s;
                    %s
                }
                """.formatted(dir.resolve("nginx-" + port + ".pid"), dir.resolve("nginx-tmp"), dir.resolve("nginx-tmp"), dir.resolve("nginx-tmp"),
                dir.resolve("nginx-tmp"), dir.resolve("nginx-tmp"), serverBlock.replace("%PORT%", Integer.toString(port))));
        String user = System.getProperty("user.name");
        process = new ProcessBuilder("nginx", "-c", conf.toString(), "-p", dir.toString(), "-g", "user " + user + ";")
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx-" + port + ".log").toFile()).start();
        Ports.awaitListening(port, process, dir.resolve("nginx-" + port + ".log"), "nginx");
    }

    public int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
