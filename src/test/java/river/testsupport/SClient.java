package river.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** openssl s_client for session resumption: one connection offering a saved session and saving the one it gets. */
public final class SClient {
    private SClient() {}

    /**
     * One connection to 127.0.0.1:{@code port} with {@code version} ("-tls1_3" or "-tls1_2") that
     * sends {@code GET /} and reads until the server closes (so that s_client also reads TLS 1.3
     * tickets, which come after the handshake), offering the session saved in {@code in} (when that
     * file exists: s_client saves none when the server offers no resumption) and saving the one it
     * gets in {@code out}; either may be null. True when the server resumed the offered session.
     */
    public static boolean resumed(int port, String version, Path in, Path out) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, version, "-servername", "localhost"));
        if (in != null && Files.exists(in)) {
            command.addAll(List.of("-sess_in", in.toString()));
        }
        if (out != null) {
            command.addAll(List.of("-sess_out", out.toString()));
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            OutputStream stdin = p.getOutputStream();
            stdin.write("GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(output).as(output).contains(", " + (version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2") + ", Cipher is").contains("HTTP/1.1 200");
            return output.contains("\nReused, ");
        } finally {
            p.destroyForcibly();
        }
    }
}
