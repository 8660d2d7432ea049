package river.observe;

/**
 * What {@link RuntimeProbe} shows through JMX as {@code river:type=Runtime}. Public because the JMX
 * introspector reads only public MBean interfaces.
 */
public interface RuntimeProbeMBean {
    /** Event loops of every service. */
    int getEventLoops();

    /** Tasks queued on all event loops and not yet run (a growing figure means a loop falls behind or tasks leak). */
    long getPendingEventLoopTasks();

    /** The longest task queue of one event loop. */
    long getMaxPendingEventLoopTasks();

    /** Direct memory held by Netty's default allocator (its chunks, whether in use by buffers or free in its pools). */
    long getAllocatorDirectMemory();

    /**
     * Direct memory Netty allocated without a JDK cleaner and counts itself, or -1 when it allocates through
     * {@code ByteBuffer.allocateDirect} instead (then the JDK's {@code java.nio:type=BufferPool,name=direct} counts it).
     */
    long getNettyDirectMemory();
}
