package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Ports;

/**
 * Keeps the benchmark scripts from rotting: one short round of every scenario with River alone, end
 * to end (nginx origin, wrk, the packaged jar), for run.sh and upstream-tls.sh. It checks that figures
 * come out, not how good they are.
 */
class BenchSmokeIT {
    @TempDir
    Path out;

    @Test
    void benchmarkScriptRunsOneShortRoundWithRiver() throws Exception {
        Path project = Path.of("").toAbsolutePath();
        ProcessBuilder builder = new ProcessBuilder("bash", "bench/run.sh", "--smoke", "--out", out.toString())
                .directory(project.toFile());
        // Free ports, so that the smoke run never collides with a benchmark or another test run.
        builder.environment().put("PROXY_PORT", Integer.toString(Ports.free()));
        builder.environment().put("TLS_PORT", Integer.toString(Ports.free()));
        builder.environment().put("ORIGIN_PORT", Integer.toString(Ports.free()));
        builder.environment().put("STATUS_PORT", Integer.toString(Ports.free()));
        Process p = builder
                .redirectErrorStream(true)
                .redirectOutput(out.resolve("console.log").toFile())
                .start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("bench finished").isTrue();
        String console = Files.readString(out.resolve("console.log"));
        assertThat(p.exitValue()).as(console).isZero();
        String table = Files.readString(out.resolve("table.md"));
        assertThat(table).contains("| figure | river |", "a. /hello HTTP/1.1 req/s", "f. proxy CPU s per 100k req");
        String raw = Files.readString(out.resolve("raw.tsv"));
        assertThat(raw).containsPattern("\\triver\\ta_rps\\t[1-9]").containsPattern("\\triver\\ta_err\\t0(\\.0+)?\\n");
    }

    @Test
    void upstreamTlsScriptRunsOneShortRoundWithRiver() throws Exception {
        Path project = Path.of("").toAbsolutePath();
        ProcessBuilder builder = new ProcessBuilder("bash", "bench/upstream-tls.sh", "--smoke", "--out", out.toString())
                .directory(project.toFile());
        // 18 distinct free ports: the proxy, the origins' status page and 16 origins.
        java.util.Set<Integer> ports = new java.util.LinkedHashSet<>();
        for (int i = 0; i < 100 && ports.size() < 18; i++) {
            ports.add(Ports.free());
        }
        java.util.List<Integer> free = java.util.List.copyOf(ports);
        builder.environment().put("PROXY_PORT", Integer.toString(free.get(0)));
        builder.environment().put("STATUS_PORT", Integer.toString(free.get(1)));
        StringBuilder origins = new StringBuilder();
        for (int i = 2; i < 18; i++) {
            origins.append(i == 2 ? "" : ",").append(free.get(i));
        }
        builder.environment().put("ORIGIN_PORTS", origins.toString());
        Process p = builder
                .redirectErrorStream(true)
                .redirectOutput(out.resolve("console.log").toFile())
                .start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("bench finished").isTrue();
        String console = Files.readString(out.resolve("console.log"));
        assertThat(p.exitValue()).as(console).isZero();
        String table = Files.readString(out.resolve("table.md"));
        assertThat(table).contains("| figure | river |", "proxy CPU µs per request", "upstream TLS handshakes");
        String raw = Files.readString(out.resolve("raw.tsv"));
        assertThat(raw).containsPattern("\\triver\\trps\\t[1-9]").containsPattern("\\triver\\terr\\t0(\\.0+)?\\n")
                // at least 90 % of requests on a reused origin connection; 100.000 when none was remade
                .containsPattern("\\triver\\treuse_pct\\t(9\\d|100)\\.");
    }
}
