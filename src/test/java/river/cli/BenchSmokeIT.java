package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.Ports;

/**
 * Keeps the benchmark scripts from rotting: one short round of every scenario with River alone, end
 * to end (nginx origin, wrk, the packaged jar), for run.sh, its scenario h and upstream-tls.sh. It checks
 * that figures come out, not how good they are.
 */
class BenchSmokeIT {
    @TempDir
    Path out;

    @Test
    void benchmarkScriptRunsOneShortRoundWithRiver() throws Exception {
        run(runSh("--smoke", "--out", out.toString()));
        String table = Files.readString(out.resolve("table.md"));
        assertThat(table).contains("| figure | river |", "a. /hello HTTP/1.1 req/s", "f. proxy CPU s per 100k req");
        String raw = Files.readString(out.resolve("raw.tsv"));
        assertThat(raw).containsPattern("\\triver\\ta_rps\\t[1-9]").containsPattern("\\triver\\ta_err\\t0(\\.0+)?\\n")
                // the default smoke leaves scenario h out: it has its own smoke form (the next test)
                .doesNotContain("\th_");
    }

    @Test
    void scenarioHOfBenchmarkScriptMergesUpstreamTlsFigures() throws Exception {
        run(runSh("--smoke", "--scenarios", "h", "--out", out.toString()));
        assertThat(out.resolve("h/table.md")).as("upstream-tls.sh's own output, under run.sh's").exists();
        String table = Files.readString(out.resolve("table.md"));
        assertThat(table).contains("| figure | river |", "h. req/s", "h. proxy CPU µs per request",
                "h. upstream TLS handshakes", "h. upstream reuse %");
        String raw = Files.readString(out.resolve("raw.tsv"));
        assertThat(raw).containsPattern("\\triver\\th_rps\\t[1-9]").containsPattern("\\triver\\th_cpu_us\\t[1-9]")
                .containsPattern("\\triver\\th_reuse_pct\\t(9\\d|100)\\.")
                .as("no round of scenarios a-g").doesNotContain("\ta_");
    }

    @Test
    void upstreamTlsScriptRunsOneShortRoundWithRiver() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "bench/upstream-tls.sh", "--smoke", "--out", out.toString());
        // 18 distinct free ports: the proxy, the origins' status page and 16 origins.
        java.util.Set<Integer> ports = new java.util.LinkedHashSet<>();
        for (int i = 0; i < 100 && ports.size() < 18; i++) {
            ports.add(Ports.free());
        }
        List<Integer> free = List.copyOf(ports);
        builder.environment().put("PROXY_PORT", Integer.toString(free.get(0)));
        builder.environment().put("STATUS_PORT", Integer.toString(free.get(1)));
        StringBuilder origins = new StringBuilder();
        for (int i = 2; i < 18; i++) {
            origins.append(i == 2 ? "" : ",").append(free.get(i));
        }
        builder.environment().put("ORIGIN_PORTS", origins.toString());
        run(builder);
        String table = Files.readString(out.resolve("table.md"));
        assertThat(table).contains("| figure | river |", "proxy CPU µs per request", "upstream TLS handshakes");
        String raw = Files.readString(out.resolve("raw.tsv"));
        assertThat(raw).containsPattern("\\triver\\trps\\t[1-9]").containsPattern("\\triver\\terr\\t0(\\.0+)?\\n")
                // at least 90 % of requests on a reused origin connection; 100.000 when none was remade
                .containsPattern("\\triver\\treuse_pct\\t(9\\d|100)\\.");
    }

    /** run.sh with its own ports free ones, so that a smoke run never collides with a benchmark or another test run. */
    private static ProcessBuilder runSh(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", "bench/run.sh"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        for (String port : new String[] {"PROXY_PORT", "TLS_PORT", "ORIGIN_PORT", "STATUS_PORT"}) {
            builder.environment().put(port, Integer.toString(Ports.free()));
        }
        return builder;
    }

    /** Runs a benchmark script from the project directory to its end (5 minutes at most); fails with its console unless it exits 0. */
    private void run(ProcessBuilder builder) throws Exception {
        Process p = builder.directory(Path.of("").toAbsolutePath().toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.resolve("console.log").toFile())
                .start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("bench finished").isTrue();
        String console = Files.readString(out.resolve("console.log"));
        assertThat(p.exitValue()).as(console).isZero();
    }
}
