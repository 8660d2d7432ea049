package river.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import river.upstream.EmbeddedUpstreams;
import river.upstream.Peer;
import river.upstream.PeerSelector;

/**
 * The exchange's state machine driven event by event: a recording client side, upstream connections
 * on embedded channels whose connects the test completes, and a clock the test moves. Nothing here
 * waits for real time.
 */
class ExchangeStateMachineTest {
    private static final Peer A = Peer.of("127.0.0.1", 9001, 1);
    private static final Peer B = Peer.of("127.0.0.2", 9002, 1);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final FakeClock clock = new FakeClock();
    private final EmbeddedUpstreams upstreams = new EmbeddedUpstreams();
    private final RecordingDownstream client = new RecordingDownstream();
    private final Selector selector = new Selector(A, B);
    private final long failuresBefore = Exchange.engineFailures();

    @AfterEach
    void noEngineBugs() {
        upstreams.closeAll();
        client.channel.finishAndReleaseAll();
        assertThat(Exchange.engineFailures()).as("engine failures").isEqualTo(failuresBefore);
    }

    // ---- the normal path --------------------------------------------------------------------------

    @Test
    void bodylessRequestWalksConnectingAwaitingHeadStreamingDone() {
        Logged logged = new Logged();
        Exchange exchange = start(get("/a"), true, logged);
        assertThat(exchange.state()).isEqualTo(ExchangeState.CONNECTING);

        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat(exchange.state()).isEqualTo(ExchangeState.AWAITING_HEAD);
        HttpRequest sent = origin.readOutbound();
        assertThat(sent.uri()).isEqualTo("/a");
        assertThat(sent.headers().get(HttpHeaderNames.VIA)).isEqualTo("1.1 river");
        assertThat((Object) origin.readOutbound()).isEqualTo(LastHttpContent.EMPTY_LAST_CONTENT);

        origin.writeInbound(response(200, 5));
        assertThat(exchange.state()).isEqualTo(ExchangeState.STREAMING);
        assertThat(client.status()).isEqualTo(200);
        origin.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII)));

        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.body.toString()).isEqualTo("hello");
        assertThat(client.completed).isTrue();
        assertThat(upstreams.released).hasSize(1);
        assertThat(logged.count).hasValue(1);
        assertThat(selector.reports).containsExactly("127.0.0.1:9001 ok");
    }

    @Test
    void requestBodyHeldUntilConnectedThenSendingUntilItsEnd() {
        Exchange exchange = start(post("/up", 6), false, null);
        assertThat(client.reading).as("body held until the upstream is known").isFalse();
        exchange.onRequestBody(new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));

        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat(exchange.state()).isEqualTo(ExchangeState.SENDING);
        assertThat(client.reading).isTrue();
        assertThat((Object) origin.readOutbound()).isInstanceOf(HttpRequest.class);
        HttpContent first = origin.readOutbound();
        assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        first.release();

        exchange.onRequestBody(new DefaultLastHttpContent(Unpooled.copiedBuffer("def", StandardCharsets.US_ASCII)));
        assertThat(exchange.state()).isEqualTo(ExchangeState.AWAITING_HEAD);
        ReferenceCountUtil.release(origin.readOutbound());
        finishResponse(origin, exchange);
    }

    @Test
    void responseBodyArrivingWithTheHeadWaitsForAnAsynchronousResponsePhase() {
        CompletableFuture<Void> decided = new CompletableFuture<>();
        ProxyModule waits = new ProxyModule() {
            @Override
            public CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse response) {
                return decided;
            }
        };
        Exchange exchange = start(get("/w"), true, null, waits);
        EmbeddedChannel origin = upstreams.succeedNext();
        origin.writeInbound(response(200, 2), new DefaultLastHttpContent(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)));
        assertThat(exchange.state()).isEqualTo(ExchangeState.HEAD_PHASES);
        assertThat(client.heads).isEmpty();

        decided.complete(null);
        client.channel.runPendingTasks();
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(200);
        assertThat(client.body.toString()).isEqualTo("ok");
    }

    @Test
    void upstreamRequestPhaseMayWaitAndNothingIsSentMeanwhile() {
        CompletableFuture<Void> decided = new CompletableFuture<>();
        ProxyModule waits = new ProxyModule() {
            @Override
            public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest request) {
                return decided.thenRun(() -> request.headers().set("x-decided", "later"));
            }
        };
        Exchange exchange = start(get("/w"), true, null, waits);
        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat(exchange.state()).isEqualTo(ExchangeState.CONNECTING);
        assertThat((Object) origin.readOutbound()).isNull();

        decided.complete(null);
        client.channel.runPendingTasks();
        HttpRequest sent = origin.readOutbound();
        assertThat(sent.headers().get("x-decided")).isEqualTo("later");
        ReferenceCountUtil.release(origin.readOutbound());
        finishResponse(origin, exchange);
    }

    @Test
    void bodyPhaseMayHandItsChunkBackLater() {
        List<CompletableFuture<HttpContent>> waiting = new ArrayList<>();
        List<HttpContent> pass = new ArrayList<>();
        ProxyModule slowBody = new ProxyModule() {
            @Override
            public HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
                CompletableFuture<HttpContent> later = new CompletableFuture<>();
                waiting.add(later);
                pass.add(chunk);
                return ProxyModule.later(later);
            }
        };
        Exchange exchange = start(get("/b"), true, null, slowBody);
        EmbeddedChannel origin = upstreams.succeedNext();
        origin.writeInbound(response(200, 4));
        origin.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII)));
        assertThat(origin.config().isAutoRead()).as("origin paused while the module holds the body").isFalse();
        origin.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("cd", StandardCharsets.US_ASCII)));
        assertThat(client.body.toString()).isEmpty();
        assertThat(waiting).as("the second chunk waits behind the first").hasSize(1);

        waiting.get(0).complete(pass.get(0));
        client.channel.runPendingTasks();
        assertThat(client.body.toString()).isEqualTo("ab");
        assertThat(waiting).hasSize(2);
        waiting.get(1).complete(pass.get(1));
        client.channel.runPendingTasks();
        assertThat(client.body.toString()).isEqualTo("abcd");
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
    }

    @Test
    void aBodyPhaseWaitingWithReadAheadReadsOnUntilItsBoundThenPausesTheSource() {
        CompletableFuture<HttpContent> decided = new CompletableFuture<>();
        List<HttpContent> held = new ArrayList<>();
        ProxyModule waits = new ProxyModule() {
            @Override
            public HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
                if (!held.isEmpty()) {
                    return chunk;
                }
                held.add(chunk);
                return ProxyModule.laterReadingAhead(decided, 4);
            }
        };
        Exchange exchange = start(get("/a"), true, null, waits);
        EmbeddedChannel origin = upstreams.succeedNext();
        origin.writeInbound(response(200, 8));
        origin.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII)));
        origin.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("cd", StandardCharsets.US_ASCII)));
        assertThat(origin.config().isAutoRead()).as("2 bytes queued, 4 may be").isTrue();
        origin.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("ef", StandardCharsets.US_ASCII)));
        assertThat(origin.config().isAutoRead()).as("the read-ahead is full").isFalse();
        origin.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("gh", StandardCharsets.US_ASCII)));
        assertThat(client.body.toString()).isEmpty();
        assertThat(client.flushes).as("the head went out while the body is held").isPositive();

        decided.complete(held.get(0));
        client.channel.runPendingTasks();
        assertThat(client.body.toString()).as("the held piece, then the queued ones in order").isEqualTo("abcdefgh");
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
    }

    @Test
    void aBodyPhaseStageMayGiveKeptThenRefuseWithARejection() {
        List<CompletableFuture<HttpContent>> stages = new ArrayList<>();
        StringBuilder kept = new StringBuilder();
        ProxyModule keeps = new ProxyModule() {
            @Override
            public HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
                kept.append(chunk.content().toString(StandardCharsets.US_ASCII));
                chunk.release();
                CompletableFuture<HttpContent> stage = new CompletableFuture<>();
                stages.add(stage);
                return chunk instanceof LastHttpContent ? ProxyModule.later(stage) : ProxyModule.laterReadingAhead(stage, 1024);
            }
        };
        Exchange exchange = start(post("/k", 6), false, null, keeps);
        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat((Object) origin.readOutbound()).isInstanceOf(HttpRequest.class);
        exchange.onRequestBody(new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        assertThat(client.reading).as("reading ahead while the module waits").isTrue();

        stages.get(0).complete(ProxyModule.KEPT);
        client.channel.runPendingTasks();
        assertThat((Object) origin.readOutbound()).as("kept: nothing went up").isNull();
        exchange.onRequestBody(new DefaultLastHttpContent(Unpooled.copiedBuffer("def", StandardCharsets.US_ASCII)));
        assertThat(kept.toString()).as("the next piece reached the module").isEqualTo("abcdef");
        assertThat(client.reading).as("no read-ahead: the source pauses").isFalse();

        stages.get(1).completeExceptionally(new Rejected(403, "refused\n", "test"));
        client.channel.runPendingTasks();
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(403);
        assertThat(client.body.toString()).isEqualTo("refused\n");
    }

    @Test
    void anOriginAnsweringBeforeAHeldRequestBodyEndsIsNotPooled() {
        CompletableFuture<HttpContent> never = new CompletableFuture<>();
        ProxyModule holdsTheEnd = new ProxyModule() {
            @Override
            public HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
                if (chunk instanceof LastHttpContent) {
                    chunk.release();
                    return ProxyModule.later(never); // as a plugin paused at the body's end for a call-out
                }
                return chunk;
            }
        };
        Exchange exchange = start(post("/early", 6), false, null, holdsTheEnd);
        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat((Object) origin.readOutbound()).isInstanceOf(HttpRequest.class);
        exchange.onRequestBody(new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        exchange.onRequestBody(new DefaultLastHttpContent(Unpooled.copiedBuffer("def", StandardCharsets.US_ASCII)));
        assertThat(exchange.requestFullyRead()).isTrue();

        finishResponse(origin, exchange); // the origin answers without waiting for the body's end
        assertThat(upstreams.released).as("its request is mid-message: never handed to the next one").isEmpty();
        assertThat(origin.isActive()).isFalse();
    }

    @Test
    void aHeldRequestBodyStopsTheUpstreamTimersUntilItGoes() {
        List<CompletableFuture<HttpContent>> stages = new ArrayList<>();
        ProxyModule holds = new ProxyModule() {
            @Override
            public HttpContent onRequestBody(RequestContext ctx, HttpContent chunk) {
                CompletableFuture<HttpContent> stage = new CompletableFuture<>();
                stages.add(stage);
                HttpContent kept = chunk;
                return ProxyModule.later(stage.thenApply(x -> kept));
            }
        };
        Exchange exchange = start(post("/slow", 3), false, null, holds);
        EmbeddedChannel origin = upstreams.succeedNext();
        assertThat((Object) origin.readOutbound()).isInstanceOf(HttpRequest.class);
        exchange.onRequestBody(new DefaultLastHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        assertThat(exchange.state()).isEqualTo(ExchangeState.SENDING);

        clock.now += 3_600 * SECOND; // far past the response (10 s) and body timeouts
        assertThat(exchange.onTick(clock.now)).as("nothing due while the module holds the body").isZero();
        assertThat(exchange.state()).isEqualTo(ExchangeState.SENDING);

        stages.get(0).complete(null);
        client.channel.runPendingTasks();
        assertThat(exchange.state()).isEqualTo(ExchangeState.AWAITING_HEAD);
        long deadline = exchange.onTick(clock.now);
        assertThat(deadline).as("the response timer runs again, from the body's release").isEqualTo(clock.now + 10 * SECOND);
        ReferenceCountUtil.release(origin.readOutbound());
        finishResponse(origin, exchange);
    }

    @Test
    void responsePhasesRunInReverseModuleOrder() {
        List<String> order = new ArrayList<>();
        Exchange exchange = start(get("/o"), true, null, new Named("first", order), new Named("second", order));
        EmbeddedChannel origin = upstreams.succeedNext();
        ReferenceCountUtil.release(origin.readOutbound());
        ReferenceCountUtil.release(origin.readOutbound());
        finishResponse(origin, exchange);
        assertThat(order).containsExactly("first:upstreamRequest", "second:upstreamRequest", "second:upstreamResponse",
                "first:upstreamResponse", "second:response", "first:response");
    }

    // ---- peers, connects and retries --------------------------------------------------------------

    @Test
    void connectFailureIsRetriedOnAnotherPeerThenAnswered502() {
        Exchange exchange = start(get("/r"), true, null);
        assertThat(upstreams.pendingPeer()).isEqualTo(A);
        upstreams.failNext(new ConnectException("refused"));
        assertThat(exchange.state()).isEqualTo(ExchangeState.CONNECTING);
        assertThat(upstreams.pendingPeer()).isEqualTo(B);
        upstreams.failNext(new ConnectException("refused"));

        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(502);
        assertThat(exchange.context().attempts()).isEqualTo(2);
        assertThat(exchange.context().error().source()).isEqualTo(ProxyError.Source.UPSTREAM_CONNECT);
        assertThat(selector.reports).containsExactly("127.0.0.1:9001 failed", "127.0.0.2:9002 failed");
    }

    @Test
    void connectTimeoutIsAnswered504() {
        Selector one = new Selector(A);
        Exchange exchange = startWith(one, get("/t"), true, List.of());
        upstreams.failNext(new ConnectTimeoutException("slow"));
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(504);
        assertThat(exchange.context().error().kind()).isEqualTo(ProxyError.Kind.CONNECT_TIMEOUT);
    }

    @Test
    void failToConnectMayRefuseTheRetry() {
        ProxyModule noRetry = new ProxyModule() {
            @Override
            public ProxyError failToConnect(RequestContext ctx, Peer peer, ProxyError error) {
                return error.withRetry(false);
            }
        };
        Exchange exchange = start(get("/r"), true, null, noRetry);
        upstreams.failNext(new ConnectException("refused"));
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(exchange.context().attempts()).isEqualTo(1);
        assertThat(client.status()).isEqualTo(502);
    }

    @Test
    void upstreamPeerPhaseChoosesThePeer() {
        ProxyModule pinsB = new ProxyModule() {
            @Override
            public Peer upstreamPeer(RequestContext ctx, Peer chosen) {
                return B;
            }
        };
        start(get("/p"), true, null, pinsB);
        assertThat(upstreams.pendingPeer()).isEqualTo(B);
        upstreams.failNext(new ConnectException("refused"));
        upstreams.failNext(new ConnectException("refused"));
    }

    @Test
    void noPeerIsAnswered502WithoutConnecting() {
        Exchange exchange = startWith(new Selector(), get("/none"), true, List.of());
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(502);
        assertThat(upstreams.connectsPending()).isZero();
    }

    @Test
    void pooledConnectionClosedByTheOriginIsRetriedOnceOnAFreshOne() {
        EmbeddedChannel stale = upstreams.addIdle(A);
        Exchange exchange = start(get("/s"), true, null);
        assertThat(exchange.state()).isEqualTo(ExchangeState.AWAITING_HEAD);
        stale.pipeline().fireChannelInactive();
        assertThat(exchange.state()).isEqualTo(ExchangeState.CONNECTING);
        EmbeddedChannel fresh = upstreams.succeedNext();
        ReferenceCountUtil.release(fresh.readOutbound());
        ReferenceCountUtil.release(fresh.readOutbound());
        finishResponse(fresh, exchange);
        assertThat(exchange.context().attempts()).isEqualTo(1);
    }

    @Test
    void originClosingMidResponseCutsTheClientAndBlamesThePeer() {
        Exchange exchange = start(get("/c"), true, null);
        EmbeddedChannel origin = upstreams.succeedNext();
        origin.writeInbound(response(200, 100));
        origin.pipeline().fireExceptionCaught(new ClosedChannelException());
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.aborted).isTrue();
        assertThat(selector.reports).containsExactly("127.0.0.1:9001 ok", "127.0.0.1:9001 failed");
    }

    // ---- timers on the fake clock -----------------------------------------------------------------

    @Test
    void responseTimeoutOnTheFakeClockIsAnswered504AndBlamesThePeer() {
        Exchange exchange = start(get("/slow"), true, null);
        EmbeddedChannel origin = upstreams.succeedNext();
        long deadline = client.wakeUps.get(0);
        assertThat(deadline).isEqualTo(clock.now + 10 * SECOND);
        assertThat(exchange.onTick(deadline - 1)).isEqualTo(deadline);
        assertThat(exchange.state()).isEqualTo(ExchangeState.AWAITING_HEAD);

        exchange.onTick(deadline);
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(504);
        assertThat(origin.isActive()).as("the upstream connection is closed").isFalse();
        assertThat(selector.reports).containsExactly("127.0.0.1:9001 failed");
    }

    @Test
    void stalledResponseBodyTimesOutAndCutsTheClient() {
        Exchange exchange = start(get("/stall"), true, null);
        EmbeddedChannel origin = upstreams.succeedNext();
        clock.now += SECOND;
        origin.writeInbound(response(200, 100));
        long deadline = exchange.onTick(clock.now);
        assertThat(deadline).isEqualTo(clock.now + 20 * SECOND);
        exchange.onTick(deadline);
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.aborted).isTrue();
        assertThat(exchange.context().error().kind()).isEqualTo(ProxyError.Kind.BODY_TIMEOUT);
    }

    @Test
    void clientThatStopsReadingPastTheWriteTimeoutIsDisconnected() {
        Exchange exchange = startWith(selector, get("/big"), true, List.of(), new EngineSettings(10_000, 20_000, 60_000, 3_000, 0));
        EmbeddedChannel origin = upstreams.succeedNext();
        origin.writeInbound(response(200, 100));
        client.writable = false;
        origin.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)));
        assertThat(origin.config().isAutoRead()).as("origin paused while the client cannot take more").isFalse();

        clock.now += 2 * SECOND;
        exchange.onTick(clock.now);
        assertThat(exchange.state()).isEqualTo(ExchangeState.STREAMING);
        clock.now += SECOND;
        exchange.onTick(clock.now);
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(exchange.context().error().kind()).isEqualTo(ProxyError.Kind.CLIENT_TOO_SLOW);
        assertThat(client.aborted).isTrue();
        assertThat(selector.reports).as("a slow client is not the peer's fault").containsExactly("127.0.0.1:9001 ok");
    }

    // ---- module failures --------------------------------------------------------------------------

    /** Each phase a module can fail in. */
    enum Phase {
        REQUEST, UPSTREAM_PEER, UPSTREAM_REQUEST, UPSTREAM_RESPONSE, RESPONSE, RESPONSE_BODY
    }

    @ParameterizedTest
    @EnumSource(Phase.class)
    void moduleThrowingInAnyPhaseEndsTheRequestReleasesItsCountersAndNeverBlamesThePeer(Phase phase) {
        AtomicInteger inFlight = new AtomicInteger();
        ProxyModule counter = new ProxyModule() {
            @Override
            public CompletionStage<Verdict> onRequest(RequestContext ctx) {
                inFlight.incrementAndGet();
                return Verdict.CONTINUE_NOW;
            }

            @Override
            public void onLogging(RequestContext ctx) {
                inFlight.decrementAndGet();
            }
        };
        Exchange exchange = start(get("/boom"), true, null, counter, new Throwing(phase));
        if (exchange.state() != ExchangeState.DONE) {
            EmbeddedChannel origin = upstreams.succeedNext();
            if (exchange.state() != ExchangeState.DONE) {
                origin.writeInbound(response(200, 2));
            }
            if (exchange.state() != ExchangeState.DONE) {
                origin.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)));
            }
        }
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(inFlight).as("the counter the first module took is released").hasValue(0);
        assertThat(exchange.context().error().source()).isEqualTo(ProxyError.Source.MODULE);
        assertThat(exchange.context().error().module()).isEqualTo("Throwing");
        if (phase == Phase.RESPONSE_BODY) {
            assertThat(client.aborted).as("the response had started: it is cut").isTrue();
        } else {
            assertThat(client.status()).isEqualTo(500);
        }
        assertThat(selector.reports).noneMatch(r -> r.endsWith("failed"));
    }

    @Test
    void onErrorMayReplaceTheErrorResponse() {
        ProxyModule branded = new ProxyModule() {
            @Override
            public Verdict.Respond onError(RequestContext ctx, ProxyError error, Verdict.Respond response) {
                response.discard();
                return Verdict.text(503, "try later");
            }
        };
        Exchange exchange = startWith(new Selector(), get("/e"), true, List.of(branded));
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(503);
        assertThat(client.body.toString()).isEqualTo("try later");
    }

    @Test
    void grpcCallsGetTheirErrorInTrailers() {
        HttpRequest call = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/svc/Method");
        call.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
        Exchange exchange = startWith(new Selector(), call, true, List.of());
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
        assertThat(client.status()).isEqualTo(200);
        assertThat(client.last.trailingHeaders().get("grpc-status")).isEqualTo("14");
        assertThat(exchange.context().status().code()).as("the log shows River's own status").isEqualTo(502);
    }

    @Test
    void lateVerdictAfterTheClientLeftClosesItsFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("f.txt"), "content");
        CompletableFuture<Verdict> verdict = new CompletableFuture<>();
        ProxyModule files = new ProxyModule() {
            @Override
            public CompletionStage<Verdict> onRequest(RequestContext ctx) {
                return verdict;
            }
        };
        Exchange exchange = start(get("/f.txt"), true, null, files);
        exchange.onDownstreamClosed();
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);

        FileChannel open = FileChannel.open(file);
        verdict.complete(new Verdict.Respond(response(200, 7), new Verdict.Body.FileRange(open, 0, 7)));
        client.channel.runPendingTasks();
        assertThat(open.isOpen()).as("the file of a verdict nobody will send is closed").isFalse();
    }

    @Test
    void transitionTableAllowsOnlyTheLifecycle() {
        assertThat(ExchangeState.STREAMING.mayMoveTo(ExchangeState.HEAD_PHASES)).isFalse();
        assertThat(ExchangeState.AWAITING_HEAD.mayMoveTo(ExchangeState.SENDING)).isFalse();
        assertThat(ExchangeState.PHASES.mayMoveTo(ExchangeState.STREAMING)).isFalse();
        for (ExchangeState s : ExchangeState.values()) {
            assertThat(ExchangeState.DONE.mayMoveTo(s)).isFalse();
            assertThat(s.mayMoveTo(ExchangeState.DONE)).isEqualTo(s != ExchangeState.DONE);
        }
        assertThat(ExchangeState.HEAD_PHASES.mayMoveTo(ExchangeState.HEAD_PHASES)).as("an error may replace a response").isTrue();
    }

    // ---- fixtures ---------------------------------------------------------------------------------

    private Exchange start(HttpRequest request, boolean bodyless, Logged logged, ProxyModule... modules) {
        List<ProxyModule> all = new ArrayList<>(List.of(modules));
        if (logged != null) {
            all.add(logged);
        }
        return startWith(selector, request, bodyless, all);
    }

    private Exchange startWith(PeerSelector peers, HttpRequest request, boolean bodyless, List<ProxyModule> modules) {
        return startWith(peers, request, bodyless, modules, new EngineSettings(10_000, 20_000, 60_000));
    }

    private Exchange startWith(PeerSelector peers, HttpRequest request, boolean bodyless, List<ProxyModule> modules, EngineSettings settings) {
        ProxyEngine engine = new ProxyEngine("test", modules, peers, upstreams, settings, clock);
        Exchange exchange = engine.newExchange(client, request, new InetSocketAddress("192.0.2.1", 40000), false);
        exchange.start(bodyless);
        return exchange;
    }

    private static void finishResponse(EmbeddedChannel origin, Exchange exchange) {
        origin.writeInbound(response(200, 0), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(exchange.state()).isEqualTo(ExchangeState.DONE);
    }

    private static HttpRequest get(String uri) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set(HttpHeaderNames.HOST, "example.test");
        return r;
    }

    private static HttpRequest post(String uri, int length) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
        r.headers().set(HttpHeaderNames.HOST, "example.test").setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return r;
    }

    private static HttpResponse response(int status, int length) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return r;
    }

    static final class FakeClock implements NanoClock {
        long now = 1_000_000_000L;

        @Override
        public long nanoTime() {
            return now;
        }
    }

    /** Round robin over fixed peers, skipping those tried; records passive-health reports. */
    static final class Selector implements PeerSelector {
        private final List<Peer> peers;
        final List<String> reports = new ArrayList<>();

        Selector(Peer... peers) {
            this.peers = List.of(peers);
        }

        @Override
        public Peer select(String path, InetSocketAddress client, Collection<Peer> tried) {
            for (Peer p : peers) {
                if (tried == null || !tried.contains(p)) {
                    return p;
                }
            }
            return null;
        }

        @Override
        public int size() {
            return peers.size();
        }

        @Override
        public void report(Peer peer, boolean success) {
            reports.add(peer.label() + (success ? " ok" : " failed"));
        }
    }

    static final class Logged implements ProxyModule {
        final AtomicInteger count = new AtomicInteger();

        @Override
        public void onLogging(RequestContext ctx) {
            count.incrementAndGet();
        }
    }

    /** Records the order in which it sees the head phases. */
    record Named(String id, List<String> order) implements ProxyModule {
        @Override
        public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest request) {
            order.add(id + ":upstreamRequest");
            return DONE;
        }

        @Override
        public CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse response) {
            order.add(id + ":upstreamResponse");
            return DONE;
        }

        @Override
        public CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
            if (response.status().code() == 200) {
                order.add(id + ":response");
            }
            return DONE;
        }
    }

    /** A module with a bug in one phase. */
    static final class Throwing implements ProxyModule {
        private final Phase phase;

        Throwing(Phase phase) {
            this.phase = phase;
        }

        private void maybeThrow(Phase now) {
            if (now == phase) {
                throw new IllegalStateException("bug in " + now);
            }
        }

        @Override
        public CompletionStage<Verdict> onRequest(RequestContext ctx) {
            maybeThrow(Phase.REQUEST);
            return Verdict.CONTINUE_NOW;
        }

        @Override
        public Peer upstreamPeer(RequestContext ctx, Peer chosen) {
            maybeThrow(Phase.UPSTREAM_PEER);
            return chosen;
        }

        @Override
        public CompletionStage<Void> onUpstreamRequest(RequestContext ctx, HttpRequest request) {
            maybeThrow(Phase.UPSTREAM_REQUEST);
            return DONE;
        }

        @Override
        public CompletionStage<Void> onUpstreamResponse(RequestContext ctx, HttpResponse response) {
            maybeThrow(Phase.UPSTREAM_RESPONSE);
            return DONE;
        }

        @Override
        public CompletionStage<Void> onResponse(RequestContext ctx, HttpResponse response) {
            if (response.status().code() == 200) {
                maybeThrow(Phase.RESPONSE);
            }
            return DONE;
        }

        @Override
        public HttpContent onResponseBody(RequestContext ctx, HttpContent chunk) {
            maybeThrow(Phase.RESPONSE_BODY);
            return chunk;
        }
    }
}
