package river.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import river.headers.CompactHeaders;

/** Header translation on both hops: what every proxied request pays twice. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HeaderForwardingBenchmark {
    private HttpHeaders browserRequest;
    private HttpHeaders originResponse;
    private final InetSocketAddress client = new InetSocketAddress("203.0.113.7", 51234);

    @Setup
    public void setUp() {
        browserRequest = CompactHeaders.factory(true).newHeaders() // what River's decoders produce
                .add("Host", "www.example.com")
                .add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .add("Accept-Language", "en-US,en;q=0.5")
                .add("Accept-Encoding", "gzip, deflate, br, zstd")
                .add("Connection", "keep-alive")
                .add("Cookie", "session=4f1c2a9b7e; theme=dark")
                .add("Upgrade-Insecure-Requests", "1")
                .add("Sec-Fetch-Dest", "document")
                .add("Sec-Fetch-Mode", "navigate")
                .add("Priority", "u=0, i");
        originResponse = CompactHeaders.factory(true).newHeaders()
                .add("Server", "nginx")
                .add("Date", "Tue, 24 Nov 2026 16:00:00 GMT")
                .add("Content-Type", "text/html")
                .add("Content-Length", "12")
                .add("Last-Modified", "Tue, 24 Nov 2026 15:00:00 GMT")
                .add("Connection", "keep-alive")
                .add("ETag", "\"6743a1b0-c\"")
                .add("Accept-Ranges", "bytes");
    }

    @Benchmark
    public HttpHeaders requestHeadersForUpstream() {
        return ForwardedHeaders.forUpstream(browserRequest, client, false);
    }

    @Benchmark
    public HttpHeaders responseHopByHopRemoval() {
        HttpHeaders copy = originResponse.copy();
        ForwardedHeaders.removeHopByHop(copy);
        return copy;
    }

    @Benchmark
    public HttpHeaders responseCopyOnly() {
        return originResponse.copy();
    }
}
