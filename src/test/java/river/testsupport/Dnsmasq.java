package river.testsupport;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for discovery tests: Debian's dnsmasq on a loopback UDP port, answering only
 * from the records the test gives it (no upstream servers, no /etc/hosts), with a TTL of one second.
 * Address records can change while it runs ({@link #setHosts}, re-read on SIGHUP); SRV records are
 * part of its command line, so changing them restarts it on the same port.
 */
public final class Dnsmasq implements AutoCloseable {
    private final Path dir;
    private final Path hosts;
    private int port;
    private List<String> srvRecords = List.of();
    private Process process;

    public Dnsmasq(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        this.hosts = dir.resolve("dns-hosts");
        Files.writeString(hosts, "");
        // dnsmasq listens on UDP and TCP: find a port free for both, and try another if it loses a race.
        for (int attempt = 1; ; attempt++) {
            try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                    java.net.ServerSocket tcp = new java.net.ServerSocket(udp.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                this.port = udp.getLocalPort();
            } catch (IOException taken) {
                continue;
            }
            try {
                start();
                return;
            } catch (IOException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    /** {@code 127.0.0.1:PORT}, for the {@code dns-servers} setting. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /**
     * Replaces the address records (lines of "IP NAME") and returns once dnsmasq answers with them:
     * it re-reads its hosts file on SIGHUP, after the signal has been sent, so a test that looked up a
     * name at once could still get the old answer.
     */
    public void setHosts(String... lines) throws IOException, InterruptedException {
        Files.writeString(hosts, String.join("\n", lines) + "\n");
        Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
        if (!hup.waitFor(10, TimeUnit.SECONDS) || hup.exitValue() != 0) {
            throw new IOException("could not signal dnsmasq");
        }
        java.util.Map<String, java.util.Set<String>> expected = new java.util.HashMap<>();
        for (String line : lines) {
            String[] ipAndName = line.trim().split("\\s+");
            if (ipAndName.length == 2 && !ipAndName[0].contains(":")) {
                expected.computeIfAbsent(ipAndName[1], n -> new java.util.TreeSet<>()).add(ipAndName[0]);
            }
        }
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            io.netty.resolver.dns.DnsNameResolver resolver = new io.netty.resolver.dns.DnsNameResolverBuilder(group.next())
                    .datagramChannelType(io.netty.channel.socket.nio.NioDatagramChannel.class)
                    .nameServerProvider(new io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider(
                            new java.net.InetSocketAddress("127.0.0.1", port)))
                    .resolveCache(io.netty.resolver.dns.NoopDnsCache.INSTANCE)
                    .resolvedAddressTypes(io.netty.resolver.ResolvedAddressTypes.IPV4_ONLY)
                    .queryTimeoutMillis(1_000).maxQueriesPerResolve(1).build();
            try {
                for (java.util.Map.Entry<String, java.util.Set<String>> name : expected.entrySet()) {
                    Eventually.await(() -> answers(resolver, name.getKey()).equals(name.getValue()), 20_000);
                }
            } finally {
                resolver.close();
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    /** What dnsmasq answers for {@code name} now (a query each time, no cache). */
    private static java.util.Set<String> answers(io.netty.resolver.dns.DnsNameResolver resolver, String name) {
        io.netty.util.concurrent.Future<List<InetAddress>> all = resolver.resolveAll(name).awaitUninterruptibly();
        java.util.Set<String> ips = new java.util.TreeSet<>();
        if (all.isSuccess()) {
            all.getNow().forEach(a -> ips.add(a.getHostAddress()));
        }
        return ips;
    }

    /** Replaces the SRV records: each "NAME,TARGET,PORT,PRIORITY,WEIGHT" (dnsmasq's --srv-host). */
    public void setSrv(String... records) throws IOException, InterruptedException {
        srvRecords = List.of(records);
        stop();
        start();
    }

    private void start() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("dnsmasq", "--no-daemon", "--port=" + port, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--addn-hosts=" + hosts, "--local-ttl=1", "--pid-file=",
                "--user=" + System.getProperty("user.name"), "--log-facility=" + dir.resolve("dnsmasq.log")));
        srvRecords.forEach(r -> command.add("--srv-host=" + r));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.out").toFile()).start();
        // Ready once it says it started (it has bound its port by then); bounded, and it must not exit.
        Path out = dir.resolve("dnsmasq.out");
        if (!FileWait.awaitContains(out, "started", process::isAlive)) {
            if (process.isAlive()) {
                throw new IOException("dnsmasq did not start in 30 s: " + Files.readString(out));
            }
            process.waitFor();
            throw new IOException("dnsmasq exited (" + process.exitValue() + "): " + Files.readString(out));
        }
    }

    private void stop() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
