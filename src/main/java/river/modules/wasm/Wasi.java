package river.modules.wasm;

import com.dylibso.chicory.runtime.TrapException;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasm.types.FunctionType;

/**
 * The few WASI preview 1 functions the SDKs' runtimes call (clocks, randomness, empty arguments and
 * environment, stdout and stderr into River's log); every other one answers ENOSYS. A plugin gets no
 * files, sockets or environment.
 */
final class Wasi {
    private static final int SUCCESS = 0;
    private static final int BADF = 8;
    private static final int NOSYS = 52;

    private Wasi() {}

    static WasmFunctionHandle handle(String name, FunctionType type, PluginVm vm) {
        return switch (name) {
            case "proc_exit" -> (inst, a) -> {
                throw new TrapException("the plugin exited with " + a[0]);
            };
            case "clock_time_get" -> (inst, a) -> {
                long nanos = a[0] == 0 ? System.currentTimeMillis() * 1_000_000L : System.nanoTime();
                vm.writeI64(a[2], nanos);
                return new long[] {SUCCESS};
            };
            case "random_get" -> (inst, a) -> {
                byte[] bytes = new byte[(int) a[1]];
                PluginVm.random(bytes);
                inst.memory().write((int) a[0], bytes);
                return new long[] {SUCCESS};
            };
            case "environ_sizes_get", "args_sizes_get" -> (inst, a) -> {
                vm.writeI32(a[0], 0);
                vm.writeI32(a[1], 0);
                return new long[] {SUCCESS};
            };
            case "environ_get", "args_get", "sched_yield" -> (inst, a) -> new long[] {SUCCESS};
            case "fd_write" -> (inst, a) -> {
                if (a[0] != 1 && a[0] != 2) {
                    return new long[] {BADF};
                }
                StringBuilder text = new StringBuilder();
                int written = 0;
                for (int i = 0; i < a[2]; i++) {
                    int ptr = inst.memory().readInt((int) (a[1] + 8L * i));
                    int len = inst.memory().readInt((int) (a[1] + 8L * i + 4));
                    text.append(vm.string(ptr, len));
                    written += len;
                }
                vm.plugin.log(a[0] == 1 ? 2 : 3, text.toString().stripTrailing());
                vm.writeI32(a[3], written);
                return new long[] {SUCCESS};
            };
            default -> {
                long[] nosys = type.returns().isEmpty() ? new long[0] : new long[] {NOSYS};
                yield (inst, a) -> nosys;
            }
        };
    }
}
