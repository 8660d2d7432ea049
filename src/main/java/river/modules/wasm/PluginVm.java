package river.modules.wasm;

import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.runtime.TrapException;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionImport;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.dylibso.chicory.wasm.types.ValType;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One instance of a plugin, owned by one event-loop thread (never shared, so no locks): the Chicory
 * instance, the proxy-wasm host functions it imports, and the contexts (one per request) it has open.
 * A call that traps, is interrupted past its budget or fails otherwise leaves the VM {@link #broken}:
 * its owner replaces it and no further call reaches it.
 */
final class PluginVm {
    static final int OK = 0;
    static final int NOT_FOUND = 1;
    static final int BAD_ARGUMENT = 2;
    static final int INVALID_MEMORY_ACCESS = 6;
    static final int CAS_MISMATCH = 8;
    static final int UNIMPLEMENTED = 12;

    static final int ROOT_CONTEXT = 1;
    /** The most call-outs one request may have in flight. */
    static final int MAX_CALLS_PER_REQUEST = 16;
    /** The most call-outs the root context (a tick, the VM's start or configure) may have in flight, per VM. */
    static final int MAX_ROOT_CALLS = 16;
    private static final long BASE = System.nanoTime();
    private static final long IDLE = 0;
    private static final long INTERRUPTING = -1;
    private static final long INTERRUPTED = -2;

    final WasmPlugin plugin;
    private final Instance instance;
    private final Memory memory;
    private final Thread owner;
    private final long budgetNanos;
    /** The deadline of the running call (from {@link #now}), or IDLE / INTERRUPTING / INTERRUPTED; the watchdog reads it. */
    private final AtomicLong deadline = new AtomicLong(IDLE);
    private long lastDeadline;
    private boolean broken;
    private volatile boolean closed;
    private int nextContext = ROOT_CONTEXT + 1;
    /** Open request contexts by id: as many as requests in flight on this thread (int keys: no boxing per lookup). */
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>();
    /** The request whose callback runs, or null during a root-context call. */
    private Stream current;

    private final ExportFunction alloc;
    private final ExportFunction onContextCreate;
    private final ExportFunction onRequestHeaders;
    private final ExportFunction onResponseHeaders;
    private final ExportFunction onResponseBody;
    private final ExportFunction onRequestBody;
    private final ExportFunction onRequestTrailers;
    private final ExportFunction onResponseTrailers;
    private final ExportFunction onDone;
    private final ExportFunction onHttpCallResponse;
    private int nextToken = 1;
    /** The root context's call-outs in flight. */
    private int rootCalls;
    /** The answer of the call-out whose callback runs (map type 6, buffer type 4), or null. */
    private HttpCallout.Response callResponse;
    private final ExportFunction onLog;
    private final ExportFunction onDelete;
    private final ExportFunction onTick;
    private final ExportFunction onQueueReady;
    private final Ticker ticker = new Ticker(this);
    private final HeaderMaps headerMaps = new HeaderMaps(this);
    private final int requestHeadersArgs;
    private final int responseHeadersArgs;

    /** Instantiates the plugin and runs its start, {@code proxy_on_vm_start} and {@code proxy_on_configure}. */
    PluginVm(WasmPlugin plugin) {
        this.plugin = plugin;
        this.owner = Thread.currentThread();
        this.budgetNanos = plugin.config().callTimeoutMs() * 1_000_000L;
        WasmModule module = plugin.module();
        MemoryLimits declared = module.memorySection().map(s -> s.getMemory(0).limits()).orElse(new MemoryLimits(0));
        int max = Math.max(declared.initialPages(), Math.min(declared.maximumPages(), plugin.config().maxMemoryPages()));
        Watchdog.watch(this);
        this.instance = Instance.builder(module)
                .withImportValues(ImportValues.builder().withFunctions(imports(module)).build())
                .withMachineFactory(plugin.machineFactory())
                .withMemoryLimits(new MemoryLimits(declared.initialPages(), max))
                .withStart(false)
                .build();
        this.memory = instance.memory();
        this.alloc = export("proxy_on_memory_allocate") != null ? export("proxy_on_memory_allocate") : export("malloc");
        this.onContextCreate = export("proxy_on_context_create");
        this.onRequestHeaders = export("proxy_on_request_headers");
        this.onResponseHeaders = export("proxy_on_response_headers");
        this.onResponseBody = export("proxy_on_response_body");
        this.onRequestBody = export("proxy_on_request_body");
        this.onRequestTrailers = export("proxy_on_request_trailers");
        this.onResponseTrailers = export("proxy_on_response_trailers");
        this.onDone = export("proxy_on_done");
        this.onHttpCallResponse = export("proxy_on_http_call_response");
        this.onLog = export("proxy_on_log");
        this.onDelete = export("proxy_on_delete");
        this.onTick = export("proxy_on_tick");
        this.onQueueReady = export("proxy_on_queue_ready");
        this.requestHeadersArgs = arity("proxy_on_request_headers");
        this.responseHeadersArgs = arity("proxy_on_response_headers");
        try {
            if (module.startSection().isPresent()) {
                int start = (int) module.startSection().get().startIndex(); // the module's own start function (AssemblyScript's runtime)
                call(args -> instance.getMachine().call(start, args));
            }
            if (export("_initialize") != null) {
                call(export("_initialize"));
            } else if (export("_start") != null) {
                call(export("_start"));
            }
            if (onContextCreate != null) {
                call(onContextCreate, ROOT_CONTEXT, 0);
            }
            byte[] vmConfig = plugin.config().vmConfiguration().getBytes(StandardCharsets.UTF_8);
            byte[] pluginConfig = plugin.config().configuration().getBytes(StandardCharsets.UTF_8);
            if (export("proxy_on_vm_start") != null && call(export("proxy_on_vm_start"), ROOT_CONTEXT, vmConfig.length) == 0) {
                throw new Refused("proxy_on_vm_start refused to start");
            }
            if (export("proxy_on_configure") != null && call(export("proxy_on_configure"), ROOT_CONTEXT, pluginConfig.length) == 0) {
                throw new Refused("proxy_on_configure rejected the plugin configuration");
            }
        } catch (RuntimeException e) {
            close(); // a tick the plugin set before it failed or refused must not run on a VM nobody keeps
            throw e;
        }
    }

    /** The plugin answered false from {@code proxy_on_vm_start} or {@code proxy_on_configure}: it refuses its configuration. */
    static final class Refused extends IllegalStateException {
        Refused(String message) {
            super(message);
        }
    }

    /** The watchdog's clock: nanoseconds since this class loaded, always positive. */
    static long now() {
        return System.nanoTime() - BASE + 1;
    }

    boolean broken() {
        return broken;
    }

    boolean closed() {
        return closed;
    }

    /** This VM will not be called again (its owner replaced it). */
    void close() {
        closed = true;
        ticker.cancel();
        streams.clear();
    }

    Ticker ticker() {
        return ticker;
    }

    HeaderMaps headerMaps() {
        return headerMaps;
    }

    Memory memory() {
        return memory;
    }

    /** {@code proxy_on_tick} of the root context. */
    void tick() {
        if (onTick != null) {
            run(null, onTick, ROOT_CONTEXT);
        }
    }

    /** {@code proxy_on_queue_ready} of the root context for queue {@code id}. */
    void queueReady(int id) {
        if (onQueueReady != null) {
            run(null, onQueueReady, ROOT_CONTEXT, id);
        }
    }

    // ---- the request path ---------------------------------------------------------------------------

    /** Opens a context for a request ({@code proxy_on_context_create}). */
    Stream open(river.proxy.RequestContext ctx) {
        Stream s = new Stream(nextContext++, ctx);
        streams.put(s.id, s);
        if (onContextCreate != null) {
            run(s, onContextCreate, s.id, ROOT_CONTEXT);
        }
        return s;
    }

    /** {@code proxy_on_request_headers}: the action (0 continue, else pause); 0 when the plugin has no such callback. */
    int requestHeaders(Stream s, int headerCount, boolean endOfStream) {
        if (onRequestHeaders == null) {
            return 0;
        }
        return requestHeadersArgs == 2 ? run(s, onRequestHeaders, s.id, headerCount)
                : run(s, onRequestHeaders, s.id, headerCount, endOfStream ? 1 : 0);
    }

    int responseHeaders(Stream s, int headerCount, boolean endOfStream) {
        if (onResponseHeaders == null) {
            return 0;
        }
        return responseHeadersArgs == 2 ? run(s, onResponseHeaders, s.id, headerCount)
                : run(s, onResponseHeaders, s.id, headerCount, endOfStream ? 1 : 0);
    }

    /** Whether the plugin wants a direction's body (it exports {@code proxy_on_request_body} or {@code proxy_on_response_body}). */
    boolean wantsBody(boolean request) {
        return (request ? onRequestBody : onResponseBody) != null;
    }

    /** Whether the plugin wants a direction's trailers ({@code proxy_on_request_trailers} or {@code proxy_on_response_trailers}). */
    boolean wantsTrailers(boolean request) {
        return (request ? onRequestTrailers : onResponseTrailers) != null;
    }

    /** {@code proxy_on_request_body} or {@code proxy_on_response_body}: the action (0 continue, else pause: keep or wait). */
    int body(Stream s, boolean request, int bufferedLength, boolean endOfStream) {
        return run(s, request ? onRequestBody : onResponseBody, s.id, bufferedLength, endOfStream ? 1 : 0);
    }

    /** {@code proxy_on_request_trailers} or {@code proxy_on_response_trailers}. */
    int trailers(Stream s, boolean request, int count) {
        return run(s, request ? onRequestTrailers : onResponseTrailers, s.id, count);
    }

    /** A token for a new call-out of {@code s} (null: the root context's), or -1 when it has too many in flight. */
    int newCall(Stream s) {
        if (s == null ? rootCalls >= MAX_ROOT_CALLS : s.pendingCalls >= MAX_CALLS_PER_REQUEST) {
            return -1;
        }
        if (s == null) {
            rootCalls++;
        } else {
            s.pendingCalls++;
        }
        return nextToken++;
    }

    /**
     * {@code proxy_on_http_call_response} for call {@code token} of {@code s} (null: of the root context,
     * which gets it on context id 1); {@code r} null when the call failed.
     */
    void httpCallResponse(Stream s, int token, HttpCallout.Response r) {
        if (s == null) {
            rootCalls--;
        } else {
            s.pendingCalls--;
        }
        if (onHttpCallResponse == null) {
            return;
        }
        callResponse = r;
        try {
            run(s, onHttpCallResponse, s == null ? ROOT_CONTEXT : s.id, token, r == null ? 0 : r.headers().size(), r == null ? 0 : r.body().length, 0);
        } finally {
            callResponse = null;
        }
    }

    /** The answer of the call-out whose callback runs, or null. */
    HttpCallout.Response callResponse() {
        return callResponse;
    }

    /** The request ended: {@code proxy_on_done}, {@code proxy_on_log}, {@code proxy_on_delete}, then the context is gone. */
    void finish(Stream s) {
        try {
            if (onDone != null) {
                run(s, onDone, s.id);
            }
            if (onLog != null) {
                run(s, onLog, s.id);
            }
            if (onDelete != null) {
                run(s, onDelete, s.id);
            }
        } finally {
            streams.remove(s.id);
        }
    }

    private int run(Stream s, ExportFunction f, long... args) {
        Stream before = current;
        current = s;
        try {
            return call(f, args);
        } finally {
            current = before;
        }
    }

    /**
     * One call into the plugin under its time budget. Any failure (a trap, the budget, a host error)
     * breaks the VM and is rethrown for the caller to contain.
     */
    int call(ExportFunction f, long... args) {
        if (broken) {
            throw new IllegalStateException("the plugin's VM failed earlier");
        }
        long d = now() + budgetNanos;
        if (d <= lastDeadline) {
            d = lastDeadline + 1;
        }
        lastDeadline = d;
        deadline.set(d);
        try {
            long[] result = f.apply(args);
            return result == null || result.length == 0 ? 0 : (int) result[0];
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            broken = true;
            throw e instanceof RuntimeException r ? r : new TrapException("the plugin " + e.getClass().getSimpleName());
        } finally {
            if (!deadline.compareAndSet(d, IDLE)) {
                while (deadline.get() == INTERRUPTING) {
                    Thread.onSpinWait();
                }
                Thread.interrupted(); // the watchdog's interrupt is for this call only
                deadline.set(IDLE);
            }
        }
    }

    /** Called by the watchdog: interrupts the running call if it is past its deadline. */
    void interruptIfLate(long now) {
        long d = deadline.get();
        if (d > 0 && now > d && deadline.compareAndSet(d, INTERRUPTING)) {
            owner.interrupt();
            deadline.set(INTERRUPTED);
        }
    }

    private ExportFunction export(String name) {
        for (int i = 0; i < instance.module().exportSection().exportCount(); i++) {
            var e = instance.module().exportSection().getExport(i);
            if (e.exportType() == ExternalType.FUNCTION && e.name().equals(name)) {
                return instance.export(name);
            }
        }
        return null;
    }

    private int arity(String name) {
        return export(name) == null ? 0 : instance.exportType(name).params().size();
    }

    // ---- host functions -----------------------------------------------------------------------------

    /** A host function for every function the module imports: the ABI's, WASI's few, a stub for the rest. */
    private List<com.dylibso.chicory.runtime.ImportFunction> imports(WasmModule module) {
        List<com.dylibso.chicory.runtime.ImportFunction> out = new ArrayList<>();
        for (int i = 0; i < module.importSection().importCount(); i++) {
            if (module.importSection().getImport(i) instanceof FunctionImport fi) {
                FunctionType type = module.typeSection().getType(fi.typeIndex());
                out.add(new HostFunction(fi.module(), fi.name(), type, contained(host(fi.module(), fi.name(), type))));
            }
        }
        return out;
    }

    /** An out-of-bounds pointer from the plugin is the plugin's error code, never a read outside its memory. */
    private static WasmFunctionHandle contained(WasmFunctionHandle h) {
        return (inst, args) -> {
            try {
                return h.apply(inst, args);
            } catch (com.dylibso.chicory.runtime.WasmRuntimeException | IndexOutOfBoundsException e) {
                if (e instanceof TrapException) {
                    throw e;
                }
                return new long[] {INVALID_MEMORY_ACCESS};
            }
        };
    }

    private WasmFunctionHandle host(String module, String name, FunctionType type) {
        if (module.equals("wasi_snapshot_preview1") || module.equals("wasi_unstable")) {
            return Wasi.handle(name, type, this);
        }
        if (module.equals("env") && name.equals("abort")) {
            return (inst, args) -> {
                throw new TrapException("the plugin aborted");
            };
        }
        WasmFunctionHandle h = null;
        if (module.equals("env")) {
            h = Abi.handle(name, this);
            h = h != null ? h : Ticker.handle(name, this);
            h = h != null ? h : SharedQueues.handle(name, this);
        }
        return h != null ? h : stub(type);
    }

    /** An import River does not provide: answers "unimplemented" (or nothing). */
    static WasmFunctionHandle stub(FunctionType type) {
        long[] result = type.returns().isEmpty() ? new long[0] : new long[] {type.returns().get(0).equals(ValType.I32) ? UNIMPLEMENTED : 0};
        return (inst, args) -> result;
    }

    // ---- helpers for the host functions -------------------------------------------------------------

    Stream current() {
        return current;
    }

    Stream stream(int id) {
        return streams.get(id);
    }

    void current(Stream s) {
        current = s;
    }

    String string(long ptr, long size) {
        return new String(bytes(ptr, size), StandardCharsets.UTF_8);
    }

    byte[] bytes(long ptr, long size) {
        if (size == 0) {
            return new byte[0];
        }
        return memory.readBytes((int) ptr, (int) size);
    }

    void writeI32(long ptr, int value) {
        memory.writeI32((int) ptr, value);
    }

    void writeI64(long ptr, long value) {
        memory.writeLong((int) ptr, value);
    }

    /** Copies {@code data} into memory the plugin allocates and stores its address and size at the two pointers. */
    int give(byte[] data, long ptrPtr, long sizePtr) {
        return give(data, data.length, ptrPtr, sizePtr);
    }

    /** {@link #give(byte[], long, long)} of the first {@code length} bytes of {@code data}. */
    int give(byte[] data, int length, long ptrPtr, long sizePtr) {
        if (alloc == null) {
            return UNIMPLEMENTED;
        }
        // Even an empty value gets a block of its own: AssemblyScript's SDK makes an ArrayBuffer of the pointer.
        int at = (int) alloc.apply(length)[0];
        if (at == 0 && length > 0) {
            return INVALID_MEMORY_ACCESS;
        }
        memory.write(at, data, 0, length);
        memory.writeI32((int) ptrPtr, at);
        memory.writeI32((int) sizePtr, length);
        return OK;
    }

    static int random(byte[] into) {
        ThreadLocalRandom.current().nextBytes(into);
        return OK;
    }

    /** Per-request state: one proxy-wasm HTTP context. */
    static final class Stream {
        final int id;
        final river.proxy.RequestContext ctx;
        /** The response head whose callback runs, or null before the response phase. */
        io.netty.handler.codec.http.HttpResponse response;
        /** What send_local_response gave during the current call, or null. */
        river.proxy.Verdict.Respond local;
        /** The request body and trailers as the plugin sees them (buffer type 0, map 1). */
        final BodyBuffer requestBody = new BodyBuffer();
        /** The response body and trailers as the plugin sees them (buffer type 1, map 3). */
        final BodyBuffer responseBody = new BodyBuffer();
        /** The request phase (headers or body) the plugin paused, or null. */
        Pauses.Paused requestPause;
        /** The response phase (headers or body) the plugin paused, or null. */
        Pauses.Paused responsePause;
        /** The plugin answered (or River did, for it) in place of the response: that answer does not come back to it. */
        boolean replaced;
        /** The call-outs this request dispatched and not yet answered. */
        int pendingCalls;
        /** The plugin asked, since the request's last callback that may pause, to continue the request (proxy_continue_stream(0)). */
        boolean continuedRequest;
        /** The same for the response (proxy_continue_stream(1)). */
        boolean continuedResponse;

        Stream(int id, river.proxy.RequestContext ctx) {
            this.id = id;
            this.ctx = ctx;
        }

        HttpHeaders requestHeaders() {
            return ctx.request().headers();
        }
    }
}
