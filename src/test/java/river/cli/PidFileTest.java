package river.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pid file's rules: live refused, stale or garbled replaced, whole when read, removed only while ours. */
class PidFileTest {
    @TempDir
    Path dir;

    private static long self() {
        return ProcessHandle.current().pid();
    }

    /** The pid of a process that has exited and been reaped. */
    static long deadPid() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("true").start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.pid();
    }

    @Test
    void aLiveProcessInThePidFileRefusesTheStart() throws Exception {
        Process live = new ProcessBuilder("sleep", "600").start();
        try {
            Path pid = Files.writeString(dir.resolve("river.pid"), live.pid() + "\n");
            assertThatThrownBy(() -> PidFile.refuseLive(pid)).isInstanceOf(IOException.class)
                    .hasMessageContaining("River is already running").hasMessageContaining(Long.toString(live.pid()));
        } finally {
            live.destroyForcibly();
        }
    }

    @Test
    void aDeadProcessGarbageOrNoFileIsNoObstacleAndIsReplaced() throws Exception {
        Path pid = dir.resolve("river.pid");
        PidFile.refuseLive(pid);
        Files.writeString(pid, deadPid() + "\n");
        PidFile.refuseLive(pid);
        Files.writeString(pid, "not a pid at all");
        PidFile.refuseLive(pid);
        PidFile.writeServing(pid);
        assertThat(Files.readString(pid)).isEqualTo(self() + "\n");
        assertThat(PidFile.read(pid)).contains(self());
    }

    @Test
    void writingLeavesNoTemporaryFileBehind() throws Exception {
        Path pid = dir.resolve("river.pid");
        PidFile.writeServing(pid);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("river.pid");
        }
    }

    @Test
    void releaseRemovesTheFileOnlyWhileItNamesThisProcess() throws Exception {
        Path pid = dir.resolve("river.pid");
        PidFile.writeServing(pid);
        // An upgrade's new instance wrote its own pid: the old one leaves it.
        Files.writeString(pid, "4194301\n");
        assertThat(PidFile.release(pid)).isFalse();
        assertThat(pid).exists();
        Files.writeString(pid, self() + "\n");
        assertThat(PidFile.release(pid)).isTrue();
        assertThat(pid).doesNotExist();
    }
}
