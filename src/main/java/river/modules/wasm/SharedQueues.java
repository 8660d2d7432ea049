package river.modules.wasm;

import static river.modules.wasm.PluginVm.BAD_ARGUMENT;
import static river.modules.wasm.PluginVm.NOT_FOUND;
import static river.modules.wasm.PluginVm.OK;

import com.dylibso.chicory.runtime.WasmFunctionHandle;
import io.netty.channel.EventLoop;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A plugin's shared queues ({@code proxy_register_shared_queue} and the rest): one set per plugin,
 * shared by its VMs on every thread, each queue bounded in items and bytes, lock-free. As in Envoy,
 * the last VM to register a name receives {@code proxy_on_queue_ready}, posted to that VM's own event
 * loop once per enqueued item. An enqueue past the bound is refused with {@code InternalFailure}: the
 * ABI has no "full" status, and the SDKs surface any non-OK status as an error to the plugin.
 */
final class SharedQueues {
    static final int MAX_QUEUES = 64;
    static final int MAX_ITEMS = 1024;
    static final long MAX_BYTES = 1 << 20;
    static final int INTERNAL_FAILURE = 10;
    static final int EMPTY = 7;

    private static final class Queue {
        final int id;
        final ConcurrentLinkedQueue<byte[]> items = new ConcurrentLinkedQueue<>();
        final AtomicInteger count = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
        /** The VM that registered it last and that VM's loop, replaced together. */
        volatile Receiver receiver;

        Queue(int id) {
            this.id = id;
        }
    }

    private record Receiver(PluginVm vm, EventLoop loop) {}

    private final ConcurrentHashMap<String, Queue> byName = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<Queue> byId = new AtomicReferenceArray<>(MAX_QUEUES + 1);
    private final AtomicInteger next = new AtomicInteger(1);

    static WasmFunctionHandle handle(String name, PluginVm vm) {
        SharedQueues queues = vm.plugin.queues();
        return switch (name) {
            case "proxy_register_shared_queue" -> (inst, a) -> {
                int id = queues.register(vm.string(a[0], a[1]), vm);
                if (id < 0) {
                    return new long[] {BAD_ARGUMENT};
                }
                vm.writeI32(a[2], id);
                return new long[] {OK};
            };
            case "proxy_resolve_shared_queue" -> (inst, a) -> {
                // River's queues are per plugin and its VMs have the empty id (plugin_vm_id): another VM id names nothing.
                Queue q = vm.string(a[0], a[1]).isEmpty() ? queues.byName.get(vm.string(a[2], a[3])) : null;
                if (q == null) {
                    return new long[] {NOT_FOUND};
                }
                vm.writeI32(a[4], q.id);
                return new long[] {OK};
            };
            case "proxy_enqueue_shared_queue" -> (inst, a) -> new long[] {queues.enqueue((int) a[0], vm.bytes(a[1], a[2]))};
            case "proxy_dequeue_shared_queue" -> (inst, a) -> {
                Queue q = queues.queue((int) a[0]);
                if (q == null) {
                    return new long[] {NOT_FOUND};
                }
                byte[] item = q.items.poll();
                if (item == null) {
                    return new long[] {EMPTY};
                }
                q.count.decrementAndGet();
                q.bytes.addAndGet(-item.length);
                return new long[] {vm.give(item, a[1], a[2])};
            };
            default -> null;
        };
    }

    /** The queue's id, making {@code vm} (on its event loop) the one told when it has items; -1 when there are too many queues. */
    int register(String name, PluginVm vm) {
        Queue q = byName.computeIfAbsent(name, k -> {
            int id = next.getAndIncrement();
            if (id > MAX_QUEUES) {
                return null;
            }
            Queue created = new Queue(id);
            byId.set(id, created);
            return created;
        });
        if (q == null) {
            return -1;
        }
        q.receiver = ThreadExecutorMap.currentExecutor() instanceof EventLoop loop ? new Receiver(vm, loop) : null;
        return q.id;
    }

    int enqueue(int id, byte[] item) {
        Queue q = queue(id);
        if (q == null) {
            return NOT_FOUND;
        }
        if (q.count.incrementAndGet() > MAX_ITEMS) {
            q.count.decrementAndGet();
            return INTERNAL_FAILURE;
        }
        if (q.bytes.addAndGet(item.length) > MAX_BYTES) {
            q.bytes.addAndGet(-item.length);
            q.count.decrementAndGet();
            return INTERNAL_FAILURE;
        }
        q.items.add(item);
        Receiver r = q.receiver;
        if (r != null) {
            try {
                r.loop().execute(() -> r.vm().plugin.queueReady(r.vm(), id));
            } catch (RejectedExecutionException e) {
                // the receiver's loop is shutting down: the item waits for a dequeue from another VM
            }
        }
        return OK;
    }

    private Queue queue(int id) {
        return id < 1 || id > MAX_QUEUES ? null : byId.get(id);
    }
}
