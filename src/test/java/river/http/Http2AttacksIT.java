package river.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.RiverProcess;
import river.testsupport.TestOrigin;
import river.testsupport.TestPki;

/**
 * HTTP/2 attacks, each sent by a real attacker (python3-h2's frame and HPACK libraries, so the
 * frames are what a real client library makes) against River with its default configuration, while
 * a well-behaved client (h2load) runs beside it: the attacker's connection is closed after a bounded
 * number of streams, few of its requests reach the origin, River's memory stays bounded, and the
 * well-behaved client sees no error.
 */
class Http2AttacksIT {
    /** Streams an attacker may get River to take before its connection is closed. */
    private static final int MAX_STREAMS_TAKEN = 500;
    /** Requests of one attack that may reach the origin. */
    private static final int MAX_FORWARDED = 150;
    /** RSS River may gain over one attack. */
    private static final long MAX_RSS_GROWTH_KB = 32 * 1024;

    @TempDir
    static Path dir;
    static TestOrigin origin;
    static RiverProcess.Running river;
    static int h2c;
    static int tls;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        TestPki.Pair cert = TestPki.riverTestCertificate();
        Files.writeString(dir.resolve("river.kdl"), """
                services {
                    proxy {
                        listeners {
                            "127.0.0.1:0" h2c=true
                            "127.0.0.1:0" cert-path="%s" key-path="%s"
                        }
                        connectors {
                            "%s"
                        }
                    }
                }
                """.formatted(cert.cert(), cert.key(), origin.address()));
        // A heap committed up front: RSS growth is then what an attack costs off the heap (buffers,
        // native memory), not the collector deciding to grow the heap.
        river = RiverProcess.startLogged(dir, dir, List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"), "--config-kdl", "river.kdl");
        List<Integer> ports = river.awaitListening(2);
        h2c = ports.get(0);
        tls = ports.get(1);
        // Warm up first: the first load grows the heap and compiles the hot paths, which is not what
        // the attacks' RSS bound is about.
        assertNoErrors(wellBehavedClient(20_000).get(120, TimeUnit.SECONDS));
    }

    @AfterAll
    static void stop() throws Exception {
        if (river != null) {
            river.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private static Path script() throws Exception {
        return Path.of(Http2AttacksIT.class.getResource("/attacks/h2attack.py").toURI());
    }

    /** Runs one attack to its end (River closes the connection, or the attacker's own time-out). */
    private static JsonNode attack(String attack, boolean overTls, String... extra) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script().toString(), "--attack", attack,
                "--port", Integer.toString(overTls ? tls : h2c), "--timeout", "40"));
        if (overTls) {
            command.add("--tls");
        }
        command.addAll(List.of(extra));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("attacker finished").isTrue();
        assertThat(p.exitValue()).as("attacker ran: " + out).isZero();
        return new ObjectMapper().readTree(out);
    }

    /** h2load's summary of a well-behaved client's run; started now, read when the attack is over. */
    private static CompletableFuture<String> wellBehavedClient(int requests) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Process p = new ProcessBuilder("h2load", "-n", Integer.toString(requests), "-c", "2", "-m", "4",
                        "http://127.0.0.1:" + h2c + "/echo/good").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("h2load did not finish");
                }
                return out;
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static void assertNoErrors(String h2load) {
        assertThat(h2load).as(h2load).containsPattern("requests: \\d+ total, \\d+ started, (\\d+) done, \\1 succeeded, 0 failed, 0 errored, 0 timeout");
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + river.process().pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new AssertionError("no VmRSS");
    }

    private static long attackRequestsAtOrigin() {
        return origin.seen().stream().filter(s -> s.uri().startsWith("/echo/attack")).count();
    }

    @ParameterizedTest
    @ValueSource(strings = {"madeyoureset-window", "madeyoureset-data", "rapid-reset", "ping-flood", "settings-flood"})
    void aFloodCostsTheAttackerItsConnectionAndNobodyElseAnything(String kind) throws Exception {
        long forwardedBefore = attackRequestsAtOrigin();
        long rssBefore = rssKb();
        CompletableFuture<String> good = wellBehavedClient(4_000);

        JsonNode result = attack(kind, false, "--streams", "20000");

        long forwarded = attackRequestsAtOrigin() - forwardedBefore;
        String h2load = good.get(120, TimeUnit.SECONDS);
        System.out.printf("%s: %s; forwarded %d; RSS %+d KiB; well-behaved: %s%n", kind, result, forwarded, rssKb() - rssBefore,
                h2load.lines().filter(l -> l.startsWith("requests:") || l.startsWith("time for request:")).toList());
        assertThat(result.get("closed").asBoolean()).as("River closed the attacker's connection: " + result).isTrue();
        JsonNode goAway = result.get("goaway");
        assertThat(goAway.isNull()).as("GOAWAY sent: " + result).isFalse();
        assertThat(goAway.get("error_code").asInt()).as("ENHANCE_YOUR_CALM").isEqualTo(11);
        assertThat(goAway.get("last_stream_id").asInt()).as("the last stream River took, RFC 9113 §6.8")
                .isLessThan(2 * MAX_STREAMS_TAKEN);
        assertThat(forwarded).as("attack requests that reached the origin").isLessThanOrEqualTo(MAX_FORWARDED);
        assertNoErrors(h2load);
        assertThat(rssKb() - rssBefore).as("RSS growth in KiB").isLessThan(MAX_RSS_GROWTH_KB);
    }

    @Test
    void slowlorisOverH2cAndTlsIsClosedByTheDefaultTimeouts() throws Exception {
        CompletableFuture<String> good = wellBehavedClient(2_000);
        List<CompletableFuture<JsonNode>> attacks = new ArrayList<>();
        for (boolean overTls : new boolean[] {false, true}) {
            for (String kind : new String[] {"idle", "slow-preface", "slow-headers"}) {
                attacks.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        // One byte every 2 s: the preface alone would take 48 s, longer than the 10 s allowed.
                        return attack(kind, overTls, "--interval", "2");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
        }
        for (CompletableFuture<JsonNode> a : attacks) {
            JsonNode result = a.get(120, TimeUnit.SECONDS);
            assertThat(result.get("closed").asBoolean()).as("River closed the connection: " + result).isTrue();
        }
        assertNoErrors(good.get(120, TimeUnit.SECONDS));
    }
}
