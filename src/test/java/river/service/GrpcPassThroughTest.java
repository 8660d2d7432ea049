package river.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RiverHarness;
import river.testsupport.TestPki;

/**
 * gRPC through River with grpc-java on both ends: the client speaks cleartext HTTP/2 to River, River
 * speaks HTTP/2 over TLS to the gRPC server. A small service of our own with a string marshaller
 * stands in for protobuf stubs.
 */
class GrpcPassThroughTest {
    static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<String, String> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);

    @TempDir
    static Path dir;
    static Server server;
    static RiverHarness river;
    /** Counted down when the server sees a SLOW call cancelled. */
    static final CountDownLatch slowCallsCancelled = new CountDownLatch(1);

    static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("river.test.Echo", name))
                .setRequestMarshaller(TEXT)
                .setResponseMarshaller(TEXT)
                .build();
    }

    @BeforeAll
    static void start() throws Exception {
        TestPki.Pair certificate = TestPki.server("grpc.test");
        ServerServiceDefinition echo = ServerServiceDefinition.builder("river.test.Echo")
                .addMethod(SAY, ServerCalls.asyncUnaryCall((String name, StreamObserver<String> out) -> {
                    out.onNext("hello " + name);
                    out.onCompleted();
                }))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((String name, StreamObserver<String> out) ->
                        // Never answers: the call can only end by the client's deadline.
                        ((io.grpc.stub.ServerCallStreamObserver<String>) out).setOnCancelHandler(slowCallsCancelled::countDown)))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((String name, StreamObserver<String> out) ->
                        out.onError(Status.NOT_FOUND.withDescription("no such thing: " + name).asRuntimeException())))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> out) -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String message) {
                        out.onNext("echo: " + message);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                        TlsServerCredentials.create(certificate.cert().toFile(), certificate.key().toFile()))
                .addService(echo)
                .build()
                .start();
        String origin = "127.0.0.1:" + server.getPort();
        river = RiverHarness.start("""
                services {
                    grpc {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%1$s" tls-sni="grpc.test" ca-path="%2$s" proto="h2-only"
                        }
                    }
                    h1only {
                        listeners {
                            "127.0.0.1:0" h2c=true
                        }
                        connectors {
                            "%1$s" tls-sni="grpc.test" ca-path="%2$s" proto="h1-only"
                        }
                    }
                }
                """.formatted(origin, TestPki.caCertificate()), dir);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        river.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static ManagedChannel channelTo(String service) {
        return Grpc.newChannelBuilderForAddress("127.0.0.1", river.port(service), InsecureChannelCredentials.create()).build();
    }

    @Test
    void unaryCallsPassThrough() throws Exception {
        ManagedChannel channel = channelTo("grpc");
        try {
            for (int i = 0; i < 20; i++) {
                assertThat(ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "river " + i))
                        .isEqualTo("hello river " + i);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void theServersErrorStatusReachesTheClient() throws Exception {
        ManagedChannel channel = channelTo("grpc");
        try {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, FAIL, CallOptions.DEFAULT, "x"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                        assertThat(e.getStatus().getDescription()).isEqualTo("no such thing: x");
                    });
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void bidirectionalStreamingKeepsOrderBothWays() throws Exception {
        ManagedChannel channel = channelTo("grpc");
        try {
            List<String> received = new CopyOnWriteArrayList<>();
            CountDownLatch firstSix = new CountDownLatch(6);
            CountDownLatch done = new CountDownLatch(1);
            Throwable[] failure = new Throwable[1];
            StreamObserver<String> requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(CHAT, CallOptions.DEFAULT),
                    new StreamObserver<String>() {
                        @Override
                        public void onNext(String value) {
                            received.add(value);
                            firstSix.countDown();
                        }

                        @Override
                        public void onError(Throwable t) {
                            failure[0] = t;
                            done.countDown();
                        }

                        @Override
                        public void onCompleted() {
                            done.countDown();
                        }
                    });
            for (int i = 0; i < 200; i++) {
                requests.onNext("message " + i + " " + "x".repeat(i * 10));
                if (i == 5) {
                    // Answers arrive while the client is still sending: the call is really streaming.
                    assertThat(firstSix.await(30, TimeUnit.SECONDS)).as("six answers before the seventh message").isTrue();
                    assertThat(received).hasSize(6);
                }
            }
            requests.onCompleted();
            assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(failure[0]).isNull();
            assertThat(received).hasSize(200);
            for (int i = 0; i < 200; i++) {
                assertThat(received.get(i)).isEqualTo("echo: message " + i + " " + "x".repeat(i * 10));
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void theClientsDeadlineEndsTheCall() throws Exception {
        ManagedChannel channel = channelTo("grpc");
        try {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, SLOW, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "x"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            // The end of the call reached the server through River (the client's reset, or the deadline
            // River forwarded in grpc-timeout): the server does not keep working for nobody.
            assertThat(slowCallsCancelled.await(30, TimeUnit.SECONDS)).as("the server saw the call cancelled").isTrue();
            // The connection is still good for the next call.
            assertThat(ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT, "again")).isEqualTo("hello again");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aGrpcCallToAnHttp1OnlyConnectorFailsCleanlyInGrpcTerms() throws Exception {
        ManagedChannel channel = channelTo("h1only");
        try {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                        assertThat(e.getStatus().getDescription()).contains("HTTP/2");
                    });
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
