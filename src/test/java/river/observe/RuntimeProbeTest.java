package river.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;

/** river:type=Runtime shows what the soak watches: event-loop queues and Netty's direct memory. */
class RuntimeProbeTest {
    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();

    @Test
    void tasksQueuedBehindABusyLoopAreCountedAndDrainToZero() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            RuntimeProbe probe = new RuntimeProbe(List.of(group));
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            io.netty.util.concurrent.EventExecutor loop = group.next();
            loop.execute(() -> {
                running.countDown();
                awaitQuietly(release);
            });
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 5; i++) {
                loop.execute(() -> { });
            }
            assertThat(probe.getEventLoops()).isEqualTo(2);
            assertThat(probe.getPendingEventLoopTasks()).isEqualTo(5);
            assertThat(probe.getMaxPendingEventLoopTasks()).isEqualTo(5);
            release.countDown();
            CountDownLatch drained = new CountDownLatch(1);
            loop.execute(drained::countDown);
            assertThat(drained.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(probe.getPendingEventLoopTasks()).isZero();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void riverRegistersTheProbeWhileItRunsAndRemovesItWhenClosed() throws Exception {
        ObjectName name = new ObjectName(RuntimeProbe.NAME);
        String withAdmin = RiverHarness.proxyConfig(2, "", "127.0.0.1:1")
                .replace("threads-per-service 2\n", "threads-per-service 2\n  admin {\n    enabled true\n    listen \"127.0.0.1:0\"\n  }\n");
        assertThat(withAdmin).contains("admin {");
        try (RiverHarness river = RiverHarness.start(withAdmin)) {
            assertThat(JMX.getAttribute(name, "EventLoops")).isEqualTo(2);
            assertThat((Long) JMX.getAttribute(name, "PendingEventLoopTasks")).isGreaterThanOrEqualTo(0);
            // Netty counts the direct memory it allocates without a cleaner, or says -1 when the JDK does.
            assertThat((Long) JMX.getAttribute(name, "NettyDirectMemory")).isGreaterThanOrEqualTo(-1);
            assertThat((Long) JMX.getAttribute(name, "AllocatorDirectMemory")).isGreaterThanOrEqualTo(0);
        }
        assertThat(JMX.isRegistered(name)).isFalse();
    }

    @Test
    void withoutTheAdminListenerRiverRegistersNoProbe() throws Exception {
        // Registering it creates the platform MBean server; nothing reads it then (the soak asks with -Driver.runtimeProbe=true).
        ObjectName name = new ObjectName(RuntimeProbe.NAME);
        try (RiverHarness river = RiverHarness.start(RiverHarness.proxyConfig(2, "", "127.0.0.1:1"))) {
            assertThat(river.server().services()).hasSize(1);
            assertThat(JMX.isRegistered(name)).isFalse();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
