package river.modules.wasm;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import river.proxy.Verdict;

/**
 * The phases of its streams a plugin paused (proxy-wasm's Pause, Envoy's StopIteration, from a
 * headers, body or trailers callback) and how each pause ends, the same way for all four: River's
 * phase waits until a call-out's callback continues that direction ({@code proxy_continue_stream})
 * or answers ({@code proxy_send_local_response}). A pause nothing can end any more (no call-out in
 * flight, or the last one answered without either) and a pause past {@code pause-timeout-ms} fail as
 * the plugin failing would: 500, or on with {@code fail-open}. A body paused before its end instead
 * goes back to being buffered when its call-outs are through, since the body callback can still
 * decide on a later piece (as in Envoy). One per plugin; confined, as the streams, to each VM's loop.
 */
final class Pauses {
    /** How a pause ends. */
    enum Outcome {
        /** The direction goes on, as the plugin left it. */
        CONTINUE,
        /** The plugin answered: the request is answered (a response whose head is out is cut short). */
        ANSWER,
        /** River gives up on the plugin: 500 (a response whose head is out is cut short). */
        FAIL,
        /** A body paused before its end is buffered again: nothing goes on yet, the next piece goes to the callback. */
        KEEP
    }

    /** Ends one paused phase: completes the stage River's phase waits on, as {@code outcome} says. */
    interface Ending {
        void end(Outcome outcome, Verdict.Respond local);
    }

    /** One paused phase of one direction of a stream. */
    static final class Paused {
        final boolean request;
        final boolean body;
        /** A body paused at its end (or at its trailers): nothing more comes that could let it go. */
        final boolean last;
        /** What River's phase waits on (a verdict, a response head's completion, a body chunk). */
        final CompletableFuture<?> stage;
        final Ending ending;
        ScheduledFuture<?> deadline;

        Paused(boolean request, boolean body, boolean last, CompletableFuture<?> stage, Ending ending) {
            this.request = request;
            this.body = body;
            this.last = last;
            this.stage = stage;
            this.ending = ending;
        }

        String what() {
            return (request ? "request " : "response ") + (body ? "body" : "headers");
        }
    }

    private final WasmPlugin plugin;

    Pauses(WasmPlugin plugin) {
        this.plugin = plugin;
    }

    /**
     * Pauses a phase of {@code s}: River's phase waits on {@code stage} until {@code ending} ends it.
     * With no call-out in flight nothing could resume it, so it ends at once (before this returns).
     */
    void pause(PluginVm.Stream s, boolean request, boolean body, boolean last, CompletableFuture<?> stage, Ending ending) {
        Paused p = new Paused(request, body, last, stage, ending);
        if (request) {
            s.requestPause = p;
        } else {
            s.responsePause = p;
        }
        if (s.pendingCalls == 0) {
            stalled(p, s, "with no call-out in flight");
            return;
        }
        if (ThreadExecutorMap.currentExecutor() instanceof EventLoop loop) {
            long ms = plugin.config().pauseTimeoutMs();
            p.deadline = loop.schedule(() -> expired(s, p, ms), ms, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * After a call-out's callback: ends the pauses it let go. An answer goes to the paused response
     * (it replaces the head, or cuts a body short), else to the paused request; a continued direction
     * goes on; a pause its last call-out left standing is given up on (a body not at its end is
     * buffered again).
     */
    void settle(PluginVm.Stream s) {
        if (s.local != null) {
            Verdict.Respond local = s.local;
            s.local = null;
            Paused p = s.responsePause != null ? s.responsePause : s.requestPause;
            if (p == null) {
                local.discard(); // nothing waits for an answer any more
            } else {
                end(s, p, Outcome.ANSWER, local);
            }
        }
        settle(s, s.requestPause);
        settle(s, s.responsePause);
    }

    private void settle(PluginVm.Stream s, Paused p) {
        if (p == null) {
            return;
        }
        if (p.request ? s.continuedRequest : s.continuedResponse) {
            if (p.request) {
                s.continuedRequest = false;
            } else {
                s.continuedResponse = false;
            }
            end(s, p, Outcome.CONTINUE, null);
        } else if (s.pendingCalls == 0) {
            stalled(p, s, "after its last call-out answered");
        }
    }

    /** Nothing can resume {@code p} any more: a body before its end is buffered again; anything else is given up on. */
    private void stalled(Paused p, PluginVm.Stream s, String when) {
        if (p.body && !p.last) {
            end(s, p, Outcome.KEEP, null);
        } else {
            giveUp(s, p, "kept the " + p.what() + " paused " + when);
        }
    }

    private void expired(PluginVm.Stream s, Paused p, long ms) {
        if ((p.request ? s.requestPause : s.responsePause) == p) {
            giveUp(s, p, "kept the " + p.what() + " paused past pause-timeout-ms (" + ms + " ms)");
        }
    }

    private void giveUp(PluginVm.Stream s, Paused p, String why) {
        boolean open = plugin.config().failOpen();
        plugin.log(3, why + (open ? "; it goes on (fail-open)" : "; the request fails"));
        end(s, p, open ? Outcome.CONTINUE : Outcome.FAIL, null);
    }

    /** The stream's VM failed, or its call-out's callback did: every pause ends as a failure does (fail-open goes on). */
    void abandon(PluginVm.Stream s) {
        if (s.local != null) {
            s.local.discard();
            s.local = null;
        }
        Outcome outcome = plugin.config().failOpen() ? Outcome.CONTINUE : Outcome.FAIL;
        if (s.requestPause != null) {
            end(s, s.requestPause, outcome, null);
        }
        if (s.responsePause != null) {
            end(s, s.responsePause, outcome, null);
        }
    }

    /** The exchange ended: its pauses are forgotten (their deadlines cancelled); nothing waits on them any more. */
    void drop(PluginVm.Stream s) {
        cancel(s.requestPause);
        cancel(s.responsePause);
        s.requestPause = null;
        s.responsePause = null;
    }

    private static void cancel(Paused p) {
        if (p != null && p.deadline != null) {
            p.deadline.cancel(false);
        }
    }

    private static void end(PluginVm.Stream s, Paused p, Outcome outcome, Verdict.Respond local) {
        if (p.request) {
            s.requestPause = null;
        } else {
            s.responsePause = null;
        }
        cancel(p);
        p.ending.end(outcome, local);
    }
}
