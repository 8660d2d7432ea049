package river.observe;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.util.List;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exposes, as the platform MBean {@code river:type=Runtime}, what cannot be seen from outside the process:
 * the event loops' task-queue lengths and Netty's direct memory. The soak (bench/soak.sh) reads it through
 * the JDK's attach API to tell a leak from a steady state. Every read is a snapshot taken on the JMX
 * thread; queue sizes are approximate, which is all a trend needs.
 */
public final class RuntimeProbe implements RuntimeProbeMBean, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeProbe.class);
    static final String NAME = "river:type=Runtime";

    private final List<EventExecutorGroup> groups;
    private ObjectName registered;

    RuntimeProbe(List<? extends EventExecutorGroup> groups) {
        this.groups = List.copyOf(groups);
    }

    /**
     * Registers a probe over {@code groups}. A second server in the same JVM (tests start several) finds the
     * name taken and goes without a probe: monitoring must never stop a server from starting.
     */
    public static RuntimeProbe register(List<? extends EventExecutorGroup> groups) {
        RuntimeProbe probe = new RuntimeProbe(groups);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            ObjectName name = new ObjectName(NAME);
            server.registerMBean(probe, name);
            probe.registered = name;
        } catch (JMException e) {
            LOG.debug("{} not registered: {}", NAME, e.toString());
        }
        return probe;
    }

    @Override
    public int getEventLoops() {
        int n = 0;
        for (EventExecutorGroup group : groups) {
            for (EventExecutor ignored : group) {
                n++;
            }
        }
        return n;
    }

    @Override
    public long getPendingEventLoopTasks() {
        long sum = 0;
        for (EventExecutorGroup group : groups) {
            for (EventExecutor loop : group) {
                sum += pending(loop);
            }
        }
        return sum;
    }

    @Override
    public long getMaxPendingEventLoopTasks() {
        long max = 0;
        for (EventExecutorGroup group : groups) {
            for (EventExecutor loop : group) {
                max = Math.max(max, pending(loop));
            }
        }
        return max;
    }

    private static long pending(EventExecutor loop) {
        return loop instanceof SingleThreadEventExecutor single ? single.pendingTasks() : 0;
    }

    @Override
    public long getAllocatorDirectMemory() {
        return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider metered
                ? metered.metric().usedDirectMemory() : -1;
    }

    @Override
    public long getNettyDirectMemory() {
        return PlatformDependent.usedDirectMemory();
    }

    @Override
    public void close() {
        if (registered == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(registered);
        } catch (JMException e) {
            LOG.debug("{} not unregistered: {}", NAME, e.toString());
        }
        registered = null;
    }
}
