package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.NotifySocket;

/** The notify protocol's datagrams, to a socket path and to an abstract name, and nothing without NOTIFY_SOCKET. */
class SystemdNotifyTest {
    @TempDir
    Path dir;

    @Test
    void messagesReachASocketPath() throws Exception {
        try (NotifySocket systemd = new NotifySocket(dir.resolve("notify").toString())) {
            SystemdNotify notify = SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.name()));
            assertThat(notify.send(SystemdNotify.readyMessage(4242))).isTrue();
            assertThat(systemd.await("READY=1")).contains("MAINPID=4242");
            assertThat(notify.send(SystemdNotify.reloadingMessage(7_000_123_456L))).isTrue();
            assertThat(systemd.await("RELOADING=1")).contains("MONOTONIC_USEC=7000123");
            assertThat(notify.send("STOPPING=1")).isTrue();
            systemd.await("STOPPING=1");
        }
    }

    @Test
    void messagesReachAnAbstractName() throws Exception {
        try (NotifySocket systemd = new NotifySocket("@river-notify-test-" + ProcessHandle.current().pid())) {
            SystemdNotify notify = SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.name()));
            assertThat(notify.send(SystemdNotify.readyMessage(7))).isTrue();
            assertThat(systemd.await("READY=1")).contains("MAINPID=7");
        }
    }

    @Test
    void withoutNotifySocketNothingIsSentAndNothingFails() {
        assertThat(SystemdNotify.fromEnvironment(Map.of()).send("READY=1")).isFalse();
        assertThat(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "relative/path")).send("READY=1")).isFalse();
    }

    @Test
    void aSocketNobodyListensOnIsLoggedNotThrown() {
        assertThat(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", dir.resolve("absent").toString())).send("READY=1")).isFalse();
    }
}
