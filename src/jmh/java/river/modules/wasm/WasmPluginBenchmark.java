package river.modules.wasm;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import river.config.PluginConfig;
import river.http.Http1ServerInitializer;
import river.http.Http1Settings;
import river.http.PhaseChainBenchmark;
import river.proxy.EngineSettings;
import river.proxy.ProxyEngine;
import river.proxy.ProxyModule;

/**
 * One request through River's HTTP/1.1 codec and phase chain with a proxy-wasm plugin in front of the
 * answering module ({@link PhaseChainBenchmark.Hello}): {@code plugin=none} (no plugin), {@code empty} (wasm/empty.wat: every callback,
 * each doing nothing) and {@code headers} (wasm/headers.wat without its per-request log line: reads a
 * header and a property, adds and removes headers both ways). The plugin runs all its per-request
 * callbacks: context create, request and response headers, done, log, delete. Needs wat2wasm.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WasmPluginBenchmark {
    @Param({"none", "empty", "headers"})
    public String plugin;

    private EmbeddedChannel channel;
    private byte[] request;
    private Path dir;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        List<ProxyModule> modules = new ArrayList<>();
        dir = Files.createTempDirectory("river-wasm-bench");
        if (!plugin.equals("none")) {
            Path wasm = compile(plugin, dir);
            modules.add(WasmPlugin.load(new PluginConfig(plugin, wasm, "", "", false, PluginConfig.DEFAULT_MAX_MEMORY_PAGES,
                    PluginConfig.DEFAULT_CALL_TIMEOUT_MS), List.of("/"), null));
        }
        modules.add(new PhaseChainBenchmark.Hello());
        ProxyEngine engine = new ProxyEngine("bench", modules, null, null, new EngineSettings(60_000, 60_000, 300_000));
        channel = new PhaseChainBenchmark.ClientChannel(new Http1ServerInitializer(engine, new Http1Settings(10_000, 60_000, 8192, 16384), false));
        request = ("GET /hello?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\nx-remove-me: 1\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        channel.writeInbound(Unpooled.wrappedBuffer(request));
        StringBuilder response = new StringBuilder();
        for (Object out; (out = channel.readOutbound()) != null; ) {
            if (out instanceof ByteBuf buf) {
                response.append(buf.toString(StandardCharsets.US_ASCII));
                buf.release();
            }
        }
        boolean rewritten = response.toString().contains("x-wasm-response: yes");
        if (!response.toString().startsWith("HTTP/1.1 200 ") || rewritten != plugin.equals("headers")) {
            throw new IllegalStateException("unexpected response with plugin " + plugin + ":\n" + response);
        }
    }

    /**
     * {@code wasm/NAME.wat} compiled into {@code dir}; the header plugin's {@code proxy_log} call is left
     * out, or the figure would be the logger writing a line per request (bench/wasm.sh does the same).
     */
    static Path compile(String name, Path dir) throws Exception {
        String text;
        try (InputStream in = WasmPluginBenchmark.class.getResourceAsStream("/wasm/" + name + ".wat")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StringBuilder kept = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (!line.contains("(call $log ")) {
                kept.append(line).append('\n');
            }
        }
        Path wat = Files.writeString(dir.resolve(name + ".wat"), kept);
        Path wasm = dir.resolve(name + ".wasm");
        Wat.run(dir, 60, "wat2wasm", wat.toString(), "-o", wasm.toString());
        return wasm;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        channel.finishAndReleaseAll();
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    /**
     * The benchmark thread's CPU time and operations per iteration (secondary results {@code cpuNanos}
     * and {@code ops}): on a shared machine wall-clock ns/op mostly measures preemption, while CPU
     * time per operation does not count the time the thread waited for a core.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();
        public long cpuNanos;
        public long ops;
        private long start;

        @Setup(Level.Iteration)
        public void begin() {
            cpuNanos = 0;
            ops = 0;
            start = THREADS.getCurrentThreadCpuTime();
        }

        @TearDown(Level.Iteration)
        public void end() {
            cpuNanos = THREADS.getCurrentThreadCpuTime() - start;
        }
    }

    @Benchmark
    public int requestThroughPhases(CpuTime cpu) {
        cpu.ops++;
        return requestThroughPhases();
    }

    int requestThroughPhases() {
        return PhaseChainBenchmark.exchange(channel, request);
    }
}
