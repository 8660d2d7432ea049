package river.modules.wasm;

import com.dylibso.chicory.runtime.WasmFunctionHandle;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.concurrent.TimeUnit;

/**
 * The tick of one VM's root context ({@code proxy_set_tick_period_milliseconds}, {@code proxy_on_tick}).
 * Each VM ticks on its own event loop, scheduled with Netty's scheduler of that loop: no thread of its
 * own, and confined to the VM's thread like the VM, so no lock. Envoy's choice too (a VM per worker,
 * each with its own tick). The tick stops when the period is set to 0, when the VM is dropped after a
 * failure, and when its plugin's generation is retired on reload.
 */
final class Ticker {
    private final PluginVm vm;
    private ScheduledFuture<?> future;

    Ticker(PluginVm vm) {
        this.vm = vm;
    }

    static WasmFunctionHandle handle(String name, PluginVm vm) {
        if (!name.equals("proxy_set_tick_period_milliseconds")) {
            return null;
        }
        return (inst, a) -> new long[] {vm.ticker().period(a[0] & 0xffffffffL)};
    }

    /** Sets the period (0 stops the tick); BadArgument when the VM runs off an event loop, which never ticks. */
    int period(long periodMs) {
        cancel();
        if (periodMs == 0) {
            return PluginVm.OK;
        }
        if (!(ThreadExecutorMap.currentExecutor() instanceof EventLoop loop)) {
            return PluginVm.BAD_ARGUMENT;
        }
        // A fixed delay, as Envoy re-arms its timer after each tick: a slow tick never piles up.
        future = loop.scheduleWithFixedDelay(this::tick, periodMs, periodMs, TimeUnit.MILLISECONDS);
        return PluginVm.OK;
    }

    void cancel() {
        if (future != null) {
            future.cancel(false);
            future = null;
        }
    }

    boolean ticking() {
        return future != null;
    }

    private void tick() {
        if (vm.closed() || vm.broken() || vm.plugin.retired()) {
            cancel();
            return;
        }
        vm.plugin.tick(vm);
    }
}
