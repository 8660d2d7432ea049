package river.testsupport;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.service.RiverServer;
import river.service.RunningService;

/** Starts the real River in this JVM from KDL text, with listeners on ephemeral loopback ports. */
public final class RiverHarness implements AutoCloseable {
    private final RiverServer server;

    private RiverHarness(RiverServer server) {
        this.server = server;
    }

    /** Starts River from KDL text; relative paths resolve against {@code workingDirectory}. */
    public static RiverHarness start(String kdl, Path workingDirectory) throws Exception {
        RiverConfig config = new ConfigLoader(workingDirectory).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
        return new RiverHarness(RiverServer.start(config));
    }

    public static RiverHarness start(String kdl) throws Exception {
        return start(kdl, Path.of("").toAbsolutePath());
    }

    public RunningService service(String name) {
        return server.services().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** The port of a service's first listener. */
    public int port(String service) {
        return ((InetSocketAddress) service(service).boundAddresses().get(0)).getPort();
    }

    public RiverServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }

    /** One GET on a connection of its own to {@code service} ({@code extraHeaders}: lines ending in CRLF, or empty). */
    public RawHttp.Response get(String service, String target, String extraHeaders) throws java.io.IOException {
        try (RawHttp raw = new RawHttp(port(service))) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: example.test\r\n" + extraHeaders + "Connection: close\r\n\r\n");
            return raw.read();
        }
    }

    /** A proxy service named "proxy" on an ephemeral port in front of the given connectors. */
    public static String proxyConfig(int threads, String extraServiceNodes, String... connectors) {
        StringBuilder kdl = new StringBuilder("system {\n  threads-per-service ").append(threads).append("\n}\nservices {\n  proxy {\n")
                .append("    listeners {\n      \"127.0.0.1:0\"\n    }\n    connectors {\n");
        for (String c : connectors) {
            kdl.append("      \"").append(c).append("\"\n");
        }
        kdl.append("    }\n").append(extraServiceNodes).append("\n  }\n}\n");
        return kdl.toString();
    }
}
