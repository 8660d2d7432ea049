package river.modules.wasm;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.config.PluginConfig;
import river.proxy.ProxyModule;
import river.proxy.Rejected;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * One configured proxy-wasm plugin as a River module (docs/wasm.md). The module is parsed and compiled
 * to JVM bytecode once per configuration load; each event-loop thread of its service instantiates it
 * when the configuration is built ({@link #instantiate}) and keeps its own {@link PluginVm}, so the
 * request path takes no lock. A call that fails
 * (a trap, the time budget, memory past its limit) fails that request with 500, or lets it pass when
 * the plugin is fail-open; it is logged and counted, and the thread's VM is replaced.
 */
public final class WasmPlugin implements ProxyModule {
    private static final Logger LOG = LoggerFactory.getLogger(WasmPlugin.class);

    private final PluginConfig config;
    private final WasmModule module;
    private final Function<Instance, Machine> machineFactory;
    private final List<String> routePaths;
    private final RequestContext.Key<PluginVm.Stream> key;
    private final ThreadLocal<PluginVm> vms = new ThreadLocal<>();
    /** The service's pool for call-outs (null for a file service), and the configured call-out targets. */
    private final river.upstream.ConnectionPool pool;
    private final Map<String, river.upstream.Peer> upstreams = new HashMap<>();
    private final SharedData shared = new SharedData();
    private final PluginMetrics metrics = new PluginMetrics();
    private final SharedQueues queues = new SharedQueues();
    private final AtomicLongArray failures = new AtomicLongArray(FailureKind.values().length);
    private volatile boolean retired;
    private final AtomicLong instantiations = new AtomicLong();
    private final BodyFilter bodies = new BodyFilter(this);
    private final Pauses pauses = new Pauses(this);

    private WasmPlugin(PluginConfig config, WasmModule module, Function<Instance, Machine> machineFactory, List<String> routePaths,
            river.upstream.ConnectionPool pool) {
        this.pool = pool;
        for (Map.Entry<String, String> u : config.upstreams().entrySet()) {
            int colon = u.getValue().lastIndexOf(':');
            upstreams.put(u.getKey(), river.upstream.Peer.of(u.getValue().substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(u.getValue().substring(colon + 1)), 1));
        }
        this.config = config;
        this.module = module;
        this.machineFactory = machineFactory;
        this.routePaths = List.copyOf(routePaths);
        this.key = RequestContext.Key.of("wasm." + config.name(), PluginVm.Stream.class);
    }

    /** Reads, parses and compiles the plugin ({@code routePaths}: the service's routes by index, for the route property). */
    public static WasmPlugin load(PluginConfig config, List<String> routePaths, river.upstream.ConnectionPool pool) throws IOException {
        WasmModule module;
        try {
            module = Parser.parse(config.path());
        } catch (RuntimeException e) {
            throw new IOException("wasm plugin \"" + config.name() + "\": " + config.path() + " is not a valid module: " + e.getMessage(), e);
        }
        long start = System.nanoTime();
        Function<Instance, Machine> compiled = MachineFactoryCompiler.compile(module);
        LOG.info("wasm plugin \"{}\": {} compiled in {} ms", config.name(), config.path(), (System.nanoTime() - start) / 1_000_000);
        return new WasmPlugin(config, module, compiled, routePaths, pool);
    }

    @Override
    public String name() {
        return "wasm:" + config.name();
    }

    PluginConfig config() {
        return config;
    }

    WasmModule module() {
        return module;
    }

    Function<Instance, Machine> machineFactory() {
        return machineFactory;
    }

    SharedData shared() {
        return shared;
    }

    PluginMetrics metrics() {
        return metrics;
    }

    SharedQueues queues() {
        return queues;
    }

    /** What made a call into the plugin fail, as the {@code kind} label of {@code river_wasm_plugin_failures_total}. */
    public enum FailureKind {
        /** A trap: {@code unreachable}, a division by zero, a stack overflow, an abort, a host function's error. */
        TRAP,
        /** The call ran past {@code call-timeout-ms} and was interrupted. */
        TIMEOUT,
        /** A load or store outside the plugin's memory (a memory that could not grow as the plugin wanted included). */
        MEMORY,
        /** The VM could not be created: its start, {@code proxy_on_vm_start} or {@code proxy_on_configure} failed or refused. */
        INSTANTIATION;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Calls into the plugin that failed, of every kind, since this configuration loaded. */
    public long failures() {
        long sum = 0;
        for (FailureKind k : FailureKind.values()) {
            sum += failures.get(k.ordinal());
        }
        return sum;
    }

    /** Calls into the plugin that failed in this way since this configuration loaded. */
    public long failures(FailureKind kind) {
        return failures.get(kind.ordinal());
    }

    /** The plugin's configured name. */
    public String pluginName() {
        return config.name();
    }

    /** What the plugin's metrics are read through ({@link #metrics(MetricVisitor)}). */
    public interface MetricVisitor {
        void counter(String name, long value);

        void gauge(String name, long value);

        void histogram(String name, long count, long sum);
    }

    /** Visits every metric the plugin defined ({@code proxy_define_metric}), with its value now. */
    public void metrics(MetricVisitor visitor) {
        metrics.forEach(visitor);
    }

    /**
     * Its generation was retired: its VMs tick no more and receive no queue callbacks; requests in
     * flight finish on them.
     */
    public void retire() {
        retired = true;
    }

    boolean retired() {
        return retired;
    }

    /** A tick of {@code vm}'s root context, on its event loop; a failure replaces the VM (and so ends its tick). */
    void tick(PluginVm vm) {
        try {
            vm.tick();
        } catch (RuntimeException e) {
            failed(vm, "proxy_on_tick", e);
        }
    }

    /** Queue {@code id} has an item for {@code vm}, on its event loop. */
    void queueReady(PluginVm vm, int id) {
        if (retired || vm.closed() || vm.broken()) {
            return;
        }
        try {
            vm.queueReady(id);
        } catch (RuntimeException e) {
            failed(vm, "proxy_on_queue_ready", e);
        }
    }

    /** The longest the load waits for one loop to create its VM; a loop that takes longer creates it when it comes to it. */
    private static final long INSTANTIATE_WAIT_SECONDS = 30;

    /**
     * Creates the plugin's VM on each of {@code loops}, each on its own thread, one loop after the
     * other, as Envoy starts its VMs with the configuration: no request pays for it, and a timer the
     * plugin sets ticks from now on every loop. A VM that fails (a trap, its time budget) is logged and
     * counted, and its loop tries again on its first request: River starts anyway. A plugin that
     * refuses its configuration ({@code false} from {@code proxy_on_vm_start} or
     * {@code proxy_on_configure}) fails the load, located at the plugin, as Envoy rejects the
     * configuration: every request would fail otherwise, and a reload is refused while the running
     * configuration keeps serving.
     */
    public void instantiate(Iterable<? extends io.netty.util.concurrent.EventExecutor> loops) throws IOException, InterruptedException {
        for (io.netty.util.concurrent.EventExecutor loop : loops) {
            String refused;
            if (loop.inEventLoop()) {
                refused = instantiateHere();
            } else {
                try {
                    refused = loop.submit(this::instantiateHere).get(INSTANTIATE_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    LOG.warn("wasm plugin \"{}\": no VM made at load on a loop ({}); it is made on that loop's first request", config.name(), e.toString());
                    continue;
                }
            }
            if (refused != null) {
                String where = config.where().isEmpty() ? "" : config.where() + ": ";
                throw new IOException(where + "wasm plugin \"" + config.name() + "\" (" + config.path() + "): " + refused);
            }
        }
    }

    /** On a loop: makes its VM unless it has one; the refusal when the plugin refused its configuration, else null. */
    private String instantiateHere() {
        if (retired || vms.get() != null) {
            return null;
        }
        try {
            vm();
            return null;
        } catch (PluginVm.Refused e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            failures.incrementAndGet(FailureKind.INSTANTIATION.ordinal());
            LOG.warn("wasm plugin \"{}\" failed in instantiation at load on {}: {}; that thread tries again on its first request", config.name(),
                    Thread.currentThread().getName(), e.toString());
            return null;
        }
    }

    /** VMs created: one per event-loop thread, plus one for each VM replaced after a failure. */
    public long instantiations() {
        return instantiations.get();
    }

    /** The level below which the plugin's log calls are dropped (the ABI's numbers: 0 trace … 5 critical). */
    int logLevel() {
        return LOG.isTraceEnabled() ? 0 : LOG.isDebugEnabled() ? 1 : LOG.isInfoEnabled() ? 2 : 3;
    }

    void log(int level, String message) {
        String name = config.name();
        switch (level) {
            case 0 -> LOG.trace("wasm plugin \"{}\": {}", name, message);
            case 1 -> LOG.debug("wasm plugin \"{}\": {}", name, message);
            case 2 -> LOG.info("wasm plugin \"{}\": {}", name, message);
            case 3 -> LOG.warn("wasm plugin \"{}\": {}", name, message);
            default -> LOG.error("wasm plugin \"{}\": {}", name, message);
        }
    }

    String routeName(int route) {
        return route >= 0 && route < routePaths.size() ? routePaths.get(route) : "";
    }

    // ---- phases -------------------------------------------------------------------------------------

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        PluginVm vm;
        try {
            vm = vm();
        } catch (RuntimeException e) {
            return failed(null, "instantiation", e);
        }
        PluginVm.Stream s;
        int action;
        try {
            s = vm.open(ctx);
            ctx.set(key, s);
            action = vm.requestHeaders(s, ctx.request().headers().size() + 4, noBody(ctx.request()));
        } catch (RuntimeException e) {
            ctx.set(key, null);
            return failed(vm, "proxy_on_request_headers", e);
        }
        if (s.local != null) {
            Verdict.Respond local = s.local;
            s.local = null;
            ctx.rejectedBy(name());
            return CompletableFuture.completedFuture(local);
        }
        s.requestBody.active = vm.wantsBody(true) || vm.wantsTrailers(true);
        if (action == 0 || s.continuedRequest) {
            return Verdict.CONTINUE_NOW;
        }
        CompletableFuture<Verdict> paused = new CompletableFuture<>(); // until a call-out's callback continues or answers
        pauses.pause(s, true, false, false, paused, (outcome, local) -> paused.complete(switch (outcome) {
            case ANSWER -> {
                ctx.rejectedBy(name());
                yield local;
            }
            case FAIL -> {
                refused(s);
                yield Verdict.text(500, "Internal Server Error\n");
            }
            default -> Verdict.CONTINUE;
        }));
        return paused;
    }

    /**
     * Holds the upstream head while the plugin's request body callback decides (it keeps the body, or
     * lets a piece go): the head then announces the body's new exact length, or goes chunked.
     */
    @Override
    public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest upstreamRequest) {
        PluginVm.Stream s = ctx.get(key);
        PluginVm vm = s == null ? null : vms.get();
        if (vm == null || vm.broken() || vm.stream(s.id) != s || !s.requestBody.active || !vm.wantsBody(true) || noBody(ctx.request())) {
            return DONE;
        }
        BodyBuffer b = s.requestBody;
        b.upstreamHead = upstreamRequest;
        if (b.framed()) {
            b.frame(upstreamRequest); // decided before this attempt's head (pieces came early, or an earlier attempt)
            return DONE;
        }
        b.headGate = new CompletableFuture<>();
        return b.headGate;
    }

    @Override
    public HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
        PluginVm.Stream s = ctx.get(key);
        if (s == null || !s.requestBody.active) {
            return chunk;
        }
        Pauses.Paused headers = s.requestPause;
        if (headers != null && !headers.body) {
            // The request headers wait for a call-out: the body callback comes after them, as in Envoy.
            return ProxyModule.later(headers.stage.thenApply(v -> {
                if (v instanceof Verdict.Respond) {
                    return chunk;
                }
                try {
                    return bodies.filter(vms.get(), s, true, chunk);
                } catch (RuntimeException e) {
                    chunk.release(); // the engine gave it to this stage, which fails
                    throw e;
                }
            }));
        }
        return bodies.filter(vms.get(), s, true, chunk);
    }

    @Override
    public CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
        PluginVm.Stream s = ctx.get(key);
        PluginVm vm = s == null ? null : vms.get();
        if (vm == null || vm.broken() || vm.stream(s.id) != s || s.replaced) {
            return DONE;
        }
        s.response = response;
        s.continuedResponse = false;
        int action;
        try {
            action = vm.responseHeaders(s, response.headers().size() + 1, noBody(response));
        } catch (RuntimeException e) {
            ctx.set(key, null);
            s.requestBody.release(); // what a streaming plugin was still keeping of the request
            pauses.drop(s);
            CompletionStage<Verdict> failure = failed(vm, "proxy_on_response_headers", e);
            if (failure.toCompletableFuture().join() instanceof Verdict.Respond) {
                // Logged and counted above: Rejected makes the engine answer 500 without logging the failure again.
                throw new Rejected(500, "Internal Server Error\n", name() + " failed in proxy_on_response_headers");
            }
            return DONE;
        } finally {
            s.response = null;
        }
        if (s.local != null) {
            Verdict.Respond local = s.local;
            s.local = null;
            throw answered(s, false, local);
        }
        if ((vm.wantsBody(false) || vm.wantsTrailers(false)) && !ctx.request().method().equals(io.netty.handler.codec.http.HttpMethod.HEAD)
                && response.status().code() >= 200 && response.status().code() != 204 && response.status().code() != 304) {
            if (vm.wantsBody(false)) {
                response.headers().remove(HttpHeaderNames.CONTENT_LENGTH); // the plugin may change its length: sent chunked
            }
            s.responseBody.active = true;
        }
        if (action == 0 || s.continuedResponse) {
            return DONE;
        }
        s.response = response; // the call-out's callback may still change it
        CompletableFuture<Void> paused = new CompletableFuture<>(); // until a call-out's callback continues or answers
        pauses.pause(s, false, false, false, paused, (outcome, local) -> {
            s.response = null;
            switch (outcome) {
                case ANSWER -> paused.completeExceptionally(answered(s, false, local));
                case FAIL -> paused.completeExceptionally(refused(s));
                default -> paused.complete(null);
            }
        });
        return paused;
    }

    /**
     * The plugin answered ({@code proxy_send_local_response}) from a callback of the request's body
     * (the request is answered, and never goes or goes further upstream) or of the response (the
     * response is replaced, or cut short once its head is out; the answer does not come back to it).
     */
    Rejected answered(PluginVm.Stream s, boolean request, Verdict.Respond local) {
        if (!request) {
            s.replaced = true;
            s.responseBody.active = false;
        }
        s.ctx.rejectedBy(name());
        return new Rejected(local, (request ? "answered by " : "replaced by ") + name());
    }

    /** River gives up on a stream the plugin left paused: 500 (or the response cut short), which the plugin does not see. */
    Rejected refused(PluginVm.Stream s) {
        s.replaced = true;
        s.responseBody.active = false;
        s.ctx.rejectedBy(name());
        return new Rejected(500, "Internal Server Error\n", name() + " left its stream paused");
    }

    Pauses pauses() {
        return pauses;
    }

    /**
     * Each response body piece goes through {@code proxy_on_response_body} (see {@link BodyFilter}):
     * streamed when the plugin continues, buffered while it keeps it, held while it is paused.
     */
    @Override
    public HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
        PluginVm.Stream s = ctx.get(key);
        if (s == null || !s.responseBody.active) {
            return chunk;
        }
        return bodies.filter(vms.get(), s, false, chunk);
    }

    @Override
    public void onLogging(RequestContext ctx) {
        PluginVm.Stream s = ctx.get(key);
        if (s == null) {
            return;
        }
        ctx.set(key, null);
        pauses.drop(s); // a pause the exchange ended before: nothing waits on it any more
        s.requestBody.release(); // the exchange may have ended before a body did
        s.responseBody.release();
        s.response = null;
        if (s.local != null) {
            s.local.discard();
            s.local = null;
        }
        PluginVm vm = vms.get();
        if (vm == null || vm.broken() || vm.stream(s.id) != s) {
            return;
        }
        try {
            vm.finish(s);
        } catch (RuntimeException e) {
            failed(vm, "proxy_on_done/proxy_on_log", e);
        }
    }

    /**
     * {@code proxy_dispatch_http_call} from the VM's current context, a request's or the root's (a
     * tick, the VM's start or configure): the call's token, or minus the ABI error (BadArgument for an
     * unknown upstream, off an event loop, or too many calls in flight).
     */
    int dispatch(PluginVm vm, String upstream, List<Map.Entry<String, String>> headers, byte[] body, int timeoutMs) {
        PluginVm.Stream s = vm.current();
        river.upstream.Peer peer = upstreams.get(upstream);
        if (peer == null || pool == null) {
            log(3, "dispatch_http_call to \"" + upstream + "\", which is not one of its configured upstreams");
            return -PluginVm.BAD_ARGUMENT;
        }
        if (!(io.netty.util.internal.ThreadExecutorMap.currentExecutor() instanceof io.netty.channel.EventLoop loop)) {
            return -PluginVm.BAD_ARGUMENT;
        }
        int token = vm.newCall(s);
        if (token < 0) {
            return -PluginVm.BAD_ARGUMENT;
        }
        HttpCallout.send(pool, peer, loop, headers, body, timeoutMs <= 0 ? 1000 : Math.min(timeoutMs, 60_000),
                response -> answered(vm, s, token, response));
        return token;
    }

    /** A call-out's answer (null: failed or timed out), on the event loop of the VM that sent it; {@code s} null for the root context's. */
    private void answered(PluginVm vm, PluginVm.Stream s, int token, HttpCallout.Response response) {
        if (s == null) {
            if (!retired && !vm.closed() && !vm.broken()) {
                try {
                    vm.httpCallResponse(null, token, response);
                } catch (RuntimeException e) {
                    failed(vm, ROOT_CALL_RESPONSE, e);
                }
            }
            return;
        }
        if (vm.broken() || vm.closed() || vm.stream(s.id) != s) {
            pauses.abandon(s); // its VM failed meanwhile (a request that ended has no pause left)
            return;
        }
        try {
            vm.httpCallResponse(s, token, response);
        } catch (RuntimeException e) {
            failed(vm, "proxy_on_http_call_response", e);
            pauses.abandon(s);
            return;
        }
        pauses.settle(s);
    }

    /** A body or trailers callback failed (see {@link #failed}); returns whether the request goes on (fail-open). */
    boolean failedInBody(PluginVm vm, String callback, RuntimeException e) {
        failed(vm, callback, e);
        return config.failOpen();
    }

    private static boolean noBody(HttpMessage m) {
        return HttpUtil.getContentLength(m, -1L) == 0
                || (!m.headers().contains(HttpHeaderNames.CONTENT_LENGTH) && !m.headers().containsValue(HttpHeaderNames.TRANSFER_ENCODING,
                        HttpHeaderValues.CHUNKED, true) && !(m instanceof HttpResponse));
    }

    /** This thread's VM, created on first use or after the last one failed. */
    private PluginVm vm() {
        PluginVm vm = vms.get();
        if (vm == null) {
            instantiations.incrementAndGet();
            long start = System.nanoTime();
            vm = new PluginVm(this);
            vms.set(vm);
            LOG.info("wasm plugin \"{}\": VM instantiated on {} in {} µs", config.name(), Thread.currentThread().getName(),
                    (System.nanoTime() - start) / 1000);
        }
        return vm;
    }

    /** The callback name of a root-context call-out's answer, in logs. */
    private static final String ROOT_CALL_RESPONSE = "proxy_on_http_call_response of the root context";
    private static final java.util.Set<String> ROOT_CALLBACKS = java.util.Set.of("proxy_on_tick", "proxy_on_queue_ready", ROOT_CALL_RESPONSE);

    private static FailureKind kind(String callback, RuntimeException e) {
        if (callback.equals("instantiation")) {
            return FailureKind.INSTANTIATION;
        }
        if (e instanceof com.dylibso.chicory.runtime.ChicoryInterruptedException) {
            return FailureKind.TIMEOUT;
        }
        String message = e.getMessage();
        return message != null && message.contains("out of bounds memory") ? FailureKind.MEMORY : FailureKind.TRAP;
    }

    /** Contains a failed call: logs and counts it, replaces the thread's VM, and fails or passes the request. */
    private CompletionStage<Verdict> failed(PluginVm vm, String callback, RuntimeException e) {
        failures.incrementAndGet(kind(callback, e).ordinal());
        if (vm != null && vms.get() == vm) {
            vms.remove();
            vm.close();
        }
        LOG.warn("wasm plugin \"{}\" failed in {}: {}; its VM on this thread is replaced{}", config.name(), callback,
                e.toString(), ROOT_CALLBACKS.contains(callback) ? "" : config.failOpen() ? ", the request goes on (fail-open)" : ", the request gets 500");
        return config.failOpen() ? Verdict.CONTINUE_NOW : Verdict.textNow(500, "Internal Server Error\n");
    }
}
