package river.discovery;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.balance.UpstreamGroup;
import river.upstream.Peer;

/**
 * Keeps an upstream group's server set current from DNS: each source is looked up on its own
 * schedule (the answer's TTL or a fixed interval, clamped into its bounds). A changed set is swapped
 * into the group for new requests; a failed lookup keeps the source's last good set, is logged, and is
 * retried at an interval doubling from the minimum to the maximum. Runs on one event loop with
 * Netty's non-blocking resolver.
 */
public final class Discovery implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Discovery.class);
    /** SRV weights (0–65535) are scaled into 1…this, keeping their ratios where they can. */
    static final int MAX_SCALED_WEIGHT = 100;

    private final String service;
    private final UpstreamGroup group;
    private final List<Peer> staticPeers;
    private final List<SourceState> sources = new ArrayList<>();
    private final DnsNameResolver resolver;
    private final EventLoop loop;
    private final Consumer<UpstreamGroup> onChange;
    private volatile boolean closed;

    /**
     * @param staticPeers the group's literal-address servers, listed before discovered ones
     * @param onChange called (on the loop) after the group's set changed
     */
    public Discovery(String service, UpstreamGroup group, List<Peer> staticPeers, List<DnsSource> sources, DnsNameResolver resolver,
            EventLoop loop, Consumer<UpstreamGroup> onChange) {
        this.service = service;
        this.group = group;
        this.staticPeers = List.copyOf(staticPeers);
        this.resolver = resolver;
        this.loop = loop;
        this.onChange = onChange;
        for (DnsSource s : sources) {
            this.sources.add(new SourceState(s));
        }
    }

    /** Resolves every source once; the future completes when every first attempt has finished, whatever its outcome. */
    public Future<Void> start() {
        Promise<Void> all = loop.newPromise();
        loop.execute(() -> {
            PromiseCombiner combiner = new PromiseCombiner(loop);
            for (SourceState s : sources) {
                combiner.add(s.refresh());
            }
            combiner.finish(all);
        });
        return all;
    }

    /** The state of one source: its last good servers and its schedule. */
    private final class SourceState {
        final DnsSource spec;
        /** Null until the first successful lookup. */
        List<Peer> current;
        long failureBackoffSeconds;

        SourceState(DnsSource spec) {
            this.spec = spec;
            this.failureBackoffSeconds = spec.minSeconds();
        }

        /** Looks the source up now; completes (successfully) when the attempt is over. */
        Future<Void> refresh() {
            Promise<Void> done = loop.newPromise();
            Future<Found> lookup = spec.srv() ? resolveSrv(spec.name()) : resolveAddresses(spec.name(), spec.port(), -1, 0);
            lookup.addListener(f -> {
                if (closed) {
                    done.trySuccess(null);
                    return;
                }
                long next;
                if (f.isSuccess()) {
                    Found found = (Found) f.getNow();
                    failureBackoffSeconds = spec.minSeconds();
                    List<Peer> peers = new ArrayList<>();
                    try {
                        for (Server s : found.servers) {
                            peers.add(spec.peers().peer(s.ip, s.port, s.name, s.weight, s.priority));
                        }
                        // DNS servers rotate their answers: a stable order keeps an unchanged set unchanged.
                        peers.sort(java.util.Comparator.comparingInt(Peer::priority).thenComparing(Peer::label));
                        current = peers;
                        publish();
                    } catch (IOException e) {
                        LOG.warn("service {}: {} found servers River cannot use: {}", service, spec, e.getMessage());
                    }
                    long interval = spec.fixedSeconds() > 0 ? spec.fixedSeconds() : found.ttlSeconds;
                    next = Math.max(spec.minSeconds(), Math.min(spec.maxSeconds(), interval));
                } else {
                    next = failureBackoffSeconds;
                    failureBackoffSeconds = Math.min(spec.maxSeconds(), failureBackoffSeconds * 2);
                    LOG.warn("service {}: looking up {} failed ({}); {}; retrying in {} s", service, spec, f.cause().getMessage(),
                            current == null ? "it has no servers yet" : "its last known servers stay in use", next);
                }
                loop.schedule(this::refresh, next, TimeUnit.SECONDS);
                done.trySuccess(null);
            });
            return done;
        }
    }

    /** Combines the static servers and every source's last good set (first entry wins) into the group. */
    private void publish() {
        Map<String, Peer> all = new LinkedHashMap<>();
        staticPeers.forEach(p -> all.putIfAbsent(p.label(), p));
        for (SourceState s : sources) {
            if (s.current != null) {
                s.current.forEach(p -> all.putIfAbsent(p.label(), p));
            }
        }
        List<Peer> before = group.peers();
        List<Peer> after = new ArrayList<>(all.values());
        if (group.update(after)) {
            String added = after.stream().filter(p -> !before.contains(p)).map(Peer::label).collect(Collectors.joining(","));
            String removed = before.stream().filter(p -> !after.contains(p)).map(Peer::label).collect(Collectors.joining(","));
            LOG.info("Upstream servers changed service=\"{}\" total={} added=\"{}\" removed=\"{}\"", group.name(), after.size(),
                    added.isEmpty() ? "-" : added, removed.isEmpty() ? "-" : removed);
            onChange.accept(group);
        }
    }

    /** A server found: where, under which name, with what weight and priority. */
    private record Server(InetAddress ip, int port, String name, int weight, int priority) {}

    /** What a lookup found, and the shortest TTL among the records it used. */
    private record Found(List<Server> servers, long ttlSeconds) {}

    /** The A and AAAA records of {@code name} (weight -1: the connector's own); fails only if both lookups fail. */
    private Future<Found> resolveAddresses(String name, int port, int weight, int priority) {
        Promise<Found> result = loop.newPromise();
        Future<List<DnsRecord>> a = resolver.resolveAll(new DefaultDnsQuestion(name, DnsRecordType.A));
        Future<List<DnsRecord>> aaaa = resolver.resolveAll(new DefaultDnsQuestion(name, DnsRecordType.AAAA));
        PromiseCombiner both = new PromiseCombiner(loop);
        both.add(a);
        both.add(aaaa);
        Promise<Void> finished = loop.newPromise();
        finished.addListener(ignored -> {
            if (!a.isSuccess() && !aaaa.isSuccess()) {
                result.tryFailure(a.cause());
                return;
            }
            List<Server> servers = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            for (Future<List<DnsRecord>> answer : List.of(a, aaaa)) {
                if (!answer.isSuccess()) {
                    continue;
                }
                for (DnsRecord r : answer.getNow()) {
                    try {
                        if (r instanceof DnsRawRecord raw && (r.type() == DnsRecordType.A || r.type() == DnsRecordType.AAAA)) {
                            byte[] ip = new byte[raw.content().readableBytes()];
                            raw.content().getBytes(raw.content().readerIndex(), ip);
                            servers.add(new Server(InetAddress.getByAddress(ip), port, name, weight, priority));
                            ttl = Math.min(ttl, r.timeToLive());
                        }
                    } catch (UnknownHostException e) {
                        LOG.debug("ignoring a malformed address record for {}", name);
                    } finally {
                        ReferenceCountUtil.release(r);
                    }
                }
            }
            result.trySuccess(new Found(servers, ttl == Long.MAX_VALUE ? 0 : ttl));
        });
        both.finish(finished);
        return result;
    }

    /** The SRV records of {@code name}, each target resolved to its addresses. */
    private Future<Found> resolveSrv(String name) {
        Promise<Found> result = loop.newPromise();
        resolver.resolveAll(new DefaultDnsQuestion(name, DnsRecordType.SRV)).addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
                return;
            }
            @SuppressWarnings("unchecked")
            List<DnsRecord> records = (List<DnsRecord>) f.getNow();
            List<int[]> fields = new ArrayList<>();
            List<String> targets = new ArrayList<>();
            long srvTtl = Long.MAX_VALUE;
            for (DnsRecord r : records) {
                try {
                    if (r instanceof DnsRawRecord raw && r.type() == DnsRecordType.SRV) {
                        ByteBuf c = raw.content().duplicate();
                        int priority = c.readUnsignedShort();
                        int weight = c.readUnsignedShort();
                        int port = c.readUnsignedShort();
                        String target = DefaultDnsRecordDecoder.decodeName(c);
                        fields.add(new int[] {priority, weight, port});
                        targets.add(target);
                        srvTtl = Math.min(srvTtl, r.timeToLive());
                    }
                } finally {
                    ReferenceCountUtil.release(r);
                }
            }
            // A single record with target "." says the service is deliberately not offered here.
            if (targets.size() == 1 && (targets.get(0).equals(".") || targets.get(0).isEmpty())) {
                result.trySuccess(new Found(List.of(), srvTtl));
                return;
            }
            int maxWeight = fields.stream().mapToInt(x -> x[1]).max().orElse(0);
            List<Future<Found>> lookups = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                int[] x = fields.get(i);
                int scaled = maxWeight == 0 ? 1 : Math.max(1, Math.round((float) x[1] * MAX_SCALED_WEIGHT / maxWeight));
                String target = targets.get(i).endsWith(".") ? targets.get(i).substring(0, targets.get(i).length() - 1) : targets.get(i);
                lookups.add(resolveAddresses(target, x[2], scaled, x[0]));
            }
            PromiseCombiner all = new PromiseCombiner(loop);
            lookups.forEach(all::add);
            Promise<Void> finished = loop.newPromise();
            long ttlOfSrv = srvTtl;
            finished.addListener(ignored -> {
                List<Server> servers = new ArrayList<>();
                long ttl = ttlOfSrv;
                for (int i = 0; i < lookups.size(); i++) {
                    Future<Found> lookup = lookups.get(i);
                    if (lookup.isSuccess()) {
                        servers.addAll(lookup.getNow().servers);
                        ttl = Math.min(ttl, lookup.getNow().ttlSeconds);
                    } else {
                        LOG.warn("service {}: SRV target {} of {} does not resolve: {}", service, targets.get(i), name, lookup.cause().getMessage());
                    }
                }
                result.trySuccess(new Found(servers, ttl == Long.MAX_VALUE ? 0 : ttl));
            });
            all.finish(finished);
        });
        return result;
    }

    @Override
    public void close() {
        closed = true;
    }
}
