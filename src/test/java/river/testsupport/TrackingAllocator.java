package river.testsupport;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test (a fuzz target above all) can
 * assert after each input that all of them were released, and how many bytes were held at most.
 * Unlike Netty's leak detector it needs no garbage collection and names the input that leaked.
 * Confined to one thread, like the embedded channel it serves.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> handedOut = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buf) {
        handedOut.add(buf);
        return buf;
    }

    /** Bytes of capacity in buffers not yet released. */
    public long liveBytes() {
        long live = 0;
        for (ByteBuf b : handedOut) {
            if (b.refCnt() > 0) {
                live += b.capacity();
            }
        }
        return live;
    }

    /** Throws when a buffer handed out since the last call is still referenced; then forgets them all. */
    public void assertAllReleased() {
        int unreleased = 0;
        long bytes = 0;
        String first = null;
        for (ByteBuf b : handedOut) {
            if (b.refCnt() > 0) {
                unreleased++;
                bytes += b.capacity();
                if (first == null) {
                    first = io.netty.buffer.ByteBufUtil.hexDump(b, 0, Math.min(b.writerIndex(), 64));
                }
            }
        }
        handedOut.clear();
        if (unreleased > 0) {
            throw new AssertionError(unreleased + " buffer(s) (" + bytes + " bytes) allocated and never released; the first holds " + first);
        }
    }
}
