import com.sun.management.UnixOperatingSystemMXBean;
import com.sun.tools.attach.VirtualMachine;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Samples a running River for the soak (bench/soak.sh): attaches to the JVM with the JDK's attach API,
 * connects to its local JMX agent and prints one CSV line per sample.
 *
 *   java bench/Probe.java PID                          one sample, with the header line
 *   java bench/Probe.java PID EVERY_S COUNT [OUT.csv]  COUNT samples EVERY_S apart (appended to OUT.csv)
 *
 * Each sample first runs a full GC in River (MemoryMXBean.gc, as `jcmd PID GC.run` does) so that
 * heap_used_kib is the heap after GC, the live set. It stops early when River exits.
 * Columns: t_s (seconds since the probe started), rss_kib (VmRSS), heap_after_gc_kib,
 * heap_committed_kib, fds (open file descriptors), threads, pending_tasks and max_pending_tasks
 * (River's event-loop task queues, summed and the longest), netty_direct (bytes Netty counts itself,
 * -1 when it allocates through the JDK), allocator_direct (bytes held by Netty's default allocator),
 * jdk_direct (bytes of the JDK's direct-buffer pool) and jdk_direct_count (its buffers).
 */
public class Probe {
    static final String HEADER = "t_s,rss_kib,heap_after_gc_kib,heap_committed_kib,fds,threads,"
            + "pending_tasks,max_pending_tasks,netty_direct,allocator_direct,jdk_direct,jdk_direct_count";

    public static void main(String[] args) throws Exception {
        String pid = args[0];
        long everyMs = args.length > 1 ? (long) (Double.parseDouble(args[1]) * 1000) : 0;
        long count = args.length > 2 ? Long.parseLong(args[2]) : 1;
        Path out = args.length > 3 ? Path.of(args[3]) : null;
        VirtualMachine vm = VirtualMachine.attach(pid);
        String address = vm.startLocalManagementAgent();
        vm.detach();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection jmx = connector.getMBeanServerConnection();
            MemoryMXBean memory = ManagementFactory.newPlatformMXBeanProxy(jmx, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
            UnixOperatingSystemMXBean os = ManagementFactory.newPlatformMXBeanProxy(jmx,
                    ManagementFactory.OPERATING_SYSTEM_MXBEAN_NAME, UnixOperatingSystemMXBean.class);
            ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(jmx, ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
            BufferPoolMXBean direct = ManagementFactory.newPlatformMXBeanProxy(jmx, "java.nio:type=BufferPool,name=direct",
                    BufferPoolMXBean.class);
            ObjectName river = new ObjectName("river:type=Runtime");
            if (out == null) {
                System.out.println(HEADER);
            } else if (!Files.exists(out) || Files.size(out) == 0) {
                Files.writeString(out, HEADER + "\n");
            }
            long start = System.nanoTime();
            for (long i = 0; i < count; i++) {
                long due = start + i * everyMs * 1_000_000;
                long wait = (due - System.nanoTime()) / 1_000_000;
                if (wait > 0) {
                    Thread.sleep(wait);
                }
                Path status = Path.of("/proc", pid, "status");
                if (!Files.exists(status)) {
                    break;
                }
                memory.gc();
                List<Object> row = List.of(
                        (System.nanoTime() - start) / 1_000_000_000L,
                        rssKib(status),
                        memory.getHeapMemoryUsage().getUsed() / 1024,
                        memory.getHeapMemoryUsage().getCommitted() / 1024,
                        os.getOpenFileDescriptorCount(),
                        threads.getThreadCount(),
                        jmx.getAttribute(river, "PendingEventLoopTasks"),
                        jmx.getAttribute(river, "MaxPendingEventLoopTasks"),
                        jmx.getAttribute(river, "NettyDirectMemory"),
                        jmx.getAttribute(river, "AllocatorDirectMemory"),
                        direct.getMemoryUsed(),
                        direct.getCount());
                String line = String.join(",", row.stream().map(String::valueOf).toList());
                if (out == null) {
                    System.out.println(line);
                } else {
                    Files.writeString(out, line + "\n", java.nio.file.StandardOpenOption.APPEND);
                }
            }
        }
    }

    private static long rssKib(Path status) throws java.io.IOException {
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
