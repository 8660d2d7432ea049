package river.modules.wasm;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The time budget of calls into plugins. Chicory has no fuel, but both its interpreter and the code
 * its compiler emits check the thread's interrupt flag (at calls and loop back-edges) and then throw
 * {@code ChicoryInterruptedException}. This one daemon thread looks at every live VM's running call
 * every {@link #SCAN_MS} ms and interrupts the thread of a call past its deadline; {@link PluginVm#call}
 * clears the flag before it returns to the event loop, so Netty never sees it. A call therefore runs
 * at most its budget plus one scan period.
 */
final class Watchdog {
    /** How often calls are looked at: the resolution of the budget. */
    static final long SCAN_MS = 2;
    private static final Watchdog INSTANCE = new Watchdog();

    /** Every VM ever created and not collected; a VM no longer referenced (a replaced one, an old generation's) drops out. */
    private final ConcurrentLinkedQueue<WeakReference<PluginVm>> vms = new ConcurrentLinkedQueue<>();
    private final Thread thread;

    private Watchdog() {
        thread = new Thread(this::run, "river-wasm-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    static void watch(PluginVm vm) {
        INSTANCE.vms.add(new WeakReference<>(vm));
    }

    private void run() {
        while (true) {
            long now = PluginVm.now();
            for (Iterator<WeakReference<PluginVm>> it = vms.iterator(); it.hasNext(); ) {
                PluginVm vm = it.next().get();
                if (vm == null || vm.closed()) {
                    it.remove();
                } else {
                    vm.interruptIfLate(now);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SCAN_MS));
        }
    }
}
