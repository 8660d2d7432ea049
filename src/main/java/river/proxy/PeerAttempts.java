package river.proxy;

import java.util.ArrayList;
import java.util.List;
import river.upstream.Peer;
import river.upstream.PeerSelector;

/**
 * The peers one request is sent to: the selector's choice, which the modules' {@code upstreamPeer}
 * may override; after a failed connect, another peer if the error (as the modules' {@code
 * failToConnect} left it) allows a retry, never a peer already tried, at most three attempts and never
 * more than there are peers.
 */
final class PeerAttempts {
    static final int MAX_ATTEMPTS = 3;

    /** The peers tried so far; created at the first retry (a first attempt needs no list). */
    private List<Peer> tried;

    /**
     * The peer for the next attempt, recorded in the context; null when there is none.
     *
     * @param serviceUpstreams the service's own selector, for a request no routing phase sent elsewhere
     */
    Peer choose(RequestContext ctx, ProxyModule[] modules, PeerSelector serviceUpstreams) {
        if (ctx.upstreams == null) {
            ctx.upstreams = serviceUpstreams;
        }
        if (ctx.attempts > 0 && tried == null) {
            tried = new ArrayList<>(MAX_ATTEMPTS);
            tried.add(ctx.peer);
        }
        Peer peer = ctx.upstreams == null ? null : ctx.upstreams.select(ctx.path(), ctx.client(), tried);
        for (ProxyModule m : modules) {
            try {
                peer = m.upstreamPeer(ctx, peer);
            } catch (RuntimeException e) {
                throw new ModuleFailure(m, "upstreamPeer", e);
            }
        }
        if (peer != null) {
            ctx.attempts++;
            ctx.peer = peer;
            if (tried != null) {
                tried.add(peer);
            }
        }
        return peer;
    }

    /** Connecting failed: the error to fail with, or null to try another peer. */
    ProxyError afterConnectFailure(RequestContext ctx, ProxyModule[] modules, Throwable cause) {
        ProxyError error = ProxyError.ofConnectFailure(cause);
        for (ProxyModule m : modules) {
            try {
                error = m.failToConnect(ctx, ctx.peer, error);
            } catch (RuntimeException e) {
                throw new ModuleFailure(m, "failToConnect", e);
            }
        }
        int limit = Math.min(MAX_ATTEMPTS, ctx.upstreams == null ? 1 : ctx.upstreams.size());
        return error.retryOnAnotherPeer() && ctx.attempts < limit ? null : error;
    }

    /** The last attempt never reached the origin (a stale pooled connection): it does not count. */
    void forgetLast(RequestContext ctx) {
        ctx.attempts--;
        if (tried != null) {
            tried.remove(tried.size() - 1); // the peer did nothing wrong: it may serve the retry
        }
    }

    /** A module threw while choosing or retrying. */
    static final class ModuleFailure extends RuntimeException {
        final transient ProxyModule module;
        final String phase;

        ModuleFailure(ProxyModule module, String phase, RuntimeException cause) {
            super(cause);
            this.module = module;
            this.phase = phase;
        }
    }
}
