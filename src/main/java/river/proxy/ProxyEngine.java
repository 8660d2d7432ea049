package river.proxy;

import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.upstream.ConnectionSource;
import river.upstream.PeerSelector;

/**
 * The request engine of one service: its modules in phase order, its peer selector and upstream
 * pool. It holds no feature code; everything a service does beyond proxying is a module.
 */
public final class ProxyEngine {
    static final Logger LOG = LoggerFactory.getLogger(ProxyEngine.class);

    private final String service;
    /** An array: iterating it on every phase of every request allocates no iterator. */
    private final ProxyModule[] modules;
    private final PeerSelector selector;
    private final ConnectionSource pool;
    private final EngineSettings settings;
    private final SlowClientGuard slowClients;
    private final NanoClock clock;
    private final Compression compression;
    /** The compression codings that load on this machine, in the configured order. */
    private final List<String> compressionOffered;

    /**
     * @param selector chooses upstreams; null for services that answer every request locally
     */
    public ProxyEngine(String service, List<ProxyModule> modules, PeerSelector selector, ConnectionSource pool, EngineSettings settings) {
        this(service, modules, selector, pool, settings, NanoClock.SYSTEM);
    }

    /** As above, with the clock every exchange's timing reads (tests move a fake one). */
    public ProxyEngine(String service, List<ProxyModule> modules, PeerSelector selector, ConnectionSource pool, EngineSettings settings,
            NanoClock clock) {
        this(service, modules, selector, pool, settings, clock, Compression.OFF);
    }

    /** As above, with the service's response compression. */
    public ProxyEngine(String service, List<ProxyModule> modules, PeerSelector selector, ConnectionSource pool, EngineSettings settings,
            NanoClock clock, Compression compression) {
        this.compression = compression;
        this.compressionOffered = compression.enabled() ? compression.usable() : List.of();
        this.service = service;
        this.modules = modules.toArray(new ProxyModule[0]);
        this.selector = selector;
        this.pool = pool;
        this.settings = settings;
        this.slowClients = new SlowClientGuard(settings.clientWriteTimeoutMs(), settings.minSendRateBytes());
        this.clock = clock;
    }

    /** A new exchange for a request that arrived on {@code downstream}. */
    public Exchange newExchange(Downstream downstream, HttpRequest request, InetSocketAddress client, boolean secure) {
        return new Exchange(this, downstream, request, client, secure);
    }

    public String service() {
        return service;
    }

    ProxyModule[] modules() {
        return modules;
    }

    PeerSelector selector() {
        return selector;
    }

    ConnectionSource pool() {
        return pool;
    }

    SlowClientGuard slowClients() {
        return slowClients;
    }

    /** The client side of a new exchange: compressing its responses when the service does. */
    Downstream compressing(Downstream downstream, HttpRequest request) {
        return compression.wrap(downstream, compressionOffered, request);
    }

    NanoClock clock() {
        return clock;
    }

    EngineSettings settings() {
        return settings;
    }

    Logger log() {
        return LOG;
    }
}
