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
 * The soak in three minutes (bench/soak.sh, docs/hardening.md): River under the whole mix of traffic, its
 * resources sampled, judged by bench/soak_check.py. The hour-long run is for publishing; this keeps the
 * script working and catches a leak fast enough to show in three minutes.
 */
class SoakIT {
    @TempDir
    Path out;

    @Test
    void threeMinuteSoakPassesWithNoResourceGrowingAndEveryScenarioWorking() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "bench/soak.sh", "--duration", "180", "--out", out.toString())
                .directory(Path.of("").toAbsolutePath().toFile());
        for (String port : List.of("PROXY_PORT", "TLS_PORT", "ORIGIN_PORT", "ORIGIN_TLS_PORT", "BAD_ORIGIN_PORT")) {
            builder.environment().put(port, Integer.toString(Ports.free()));
        }
        Process p = builder.redirectErrorStream(true).redirectOutput(out.resolve("console.log").toFile()).start();
        assertThat(p.waitFor(8, TimeUnit.MINUTES)).as("soak finished").isTrue();
        String console = Files.readString(out.resolve("console.log"));
        assertThat(p.exitValue()).as(console).isZero();
        assertThat(Files.readString(out.resolve("verdict.txt"))).contains("heap_after_gc_kib", "websocket_long", "PASSED");
        // 180 s at one sample per 10 s, plus the one at 0 and the header.
        assertThat(Files.readAllLines(out.resolve("samples.csv"))).hasSizeGreaterThanOrEqualTo(17);
    }

    @Test
    void verdictFailsWhenTheHeapAfterGcGrowsSteadily() throws Exception {
        // The samples of a healthy run, but a live set that grows 60 KiB a second (a leak of about 2 KiB per
        // request of the load): three minutes are enough to catch it.
        List<String> csv = new ArrayList<>(List.of("t_s,rss_kib,heap_after_gc_kib,heap_committed_kib,fds,threads,"
                + "pending_tasks,max_pending_tasks,netty_direct,allocator_direct,jdk_direct,jdk_direct_count"));
        for (int t = 0; t <= 180; t += 10) {
            csv.add(t + ",120000," + (9000 + t * 60) + ",23000,36,14,0,0,8454430,8388608,8470815,11");
        }
        Files.write(out.resolve("samples.csv"), csv);
        Files.writeString(out.resolve("load.json"), "{}");
        Files.writeString(out.resolve("h2load.txt"), "requests: 10 total, 10 started, 10 done, 10 succeeded, 0 failed\n");
        Process p = new ProcessBuilder("python3", "bench/soak_check.py", out.resolve("samples.csv").toString(),
                out.resolve("load.json").toString(), out.resolve("h2load.txt").toString(), "--duration", "180")
                .redirectErrorStream(true).redirectOutput(out.resolve("verdict.txt").toFile()).start();
        assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
        String verdict = Files.readString(out.resolve("verdict.txt"));
        assertThat(p.exitValue()).as(verdict).isEqualTo(1);
        assertThat(verdict).contains("FAIL: heap_after_gc_kib grows").doesNotContain("FAIL: rss_kib");
    }
}
