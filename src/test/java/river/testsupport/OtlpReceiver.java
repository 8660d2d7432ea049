package river.testsupport;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An OTLP traces receiver on loopback, over HTTP (JDK HTTP server) or gRPC (grpc-java): decodes every
 * export with OpenTelemetry's proto classes and keeps the spans, which tests wait for by condition.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** A received span, with its ids as lower-case hex (as in {@code traceparent}) and its resource. */
    public record Received(Span span, Resource resource) {
        public String traceId() {
            return HexFormat.of().formatHex(span.getTraceId().toByteArray());
        }

        public String spanId() {
            return HexFormat.of().formatHex(span.getSpanId().toByteArray());
        }

        public String parentSpanId() {
            return HexFormat.of().formatHex(span.getParentSpanId().toByteArray());
        }

        public Span.SpanKind kind() {
            return span.getKind();
        }

        /** An attribute's value (string, or integer as text), or null. */
        public String attribute(String key) {
            return value(span.getAttributesList(), key);
        }

        public String resourceAttribute(String key) {
            return value(resource.getAttributesList(), key);
        }

        private static String value(List<KeyValue> attributes, String key) {
            for (KeyValue kv : attributes) {
                if (kv.getKey().equals(key)) {
                    AnyValue v = kv.getValue();
                    return v.hasIntValue() ? Long.toString(v.getIntValue()) : v.getStringValue();
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final io.grpc.Server grpcServer;
    private final List<Received> spans = new ArrayList<>();
    private int exports;

    /** An OTLP/HTTP receiver ({@code POST /v1/traces}). */
    public OtlpReceiver() throws IOException {
        grpcServer = null;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                received(ExportTraceServiceRequest.parseFrom(in.readAllBytes()));
                byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
                exchange.getResponseBody().write(answer);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    /** An OTLP/gRPC receiver: grpc-java's server with the proto classes' {@code TraceService}. */
    private OtlpReceiver(boolean grpc) throws IOException {
        server = null;
        // The service by hand (grpc-java's core, the proto classes' messages): the generated stub needs grpc-protobuf.
        io.grpc.MethodDescriptor<ExportTraceServiceRequest, ExportTraceServiceResponse> export = io.grpc.MethodDescriptor
                .newBuilder(marshaller(ExportTraceServiceRequest::parseFrom), marshaller(ExportTraceServiceResponse::parseFrom))
                .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
                .setFullMethodName("opentelemetry.proto.collector.trace.v1.TraceService/Export")
                .build();
        grpcServer = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(io.grpc.ServerServiceDefinition.builder("opentelemetry.proto.collector.trace.v1.TraceService")
                        .addMethod(export, io.grpc.stub.ServerCalls.asyncUnaryCall((request, answer) -> {
                            received(request);
                            answer.onNext(ExportTraceServiceResponse.getDefaultInstance());
                            answer.onCompleted();
                        }))
                        .build())
                .build()
                .start();
    }

    private interface Parser<T> {
        T parse(InputStream in) throws IOException;
    }

    private static <T extends com.google.protobuf.MessageLite> io.grpc.MethodDescriptor.Marshaller<T> marshaller(Parser<T> parser) {
        return new io.grpc.MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(T value) {
                return value.toByteString().newInput();
            }

            @Override
            public T parse(InputStream in) {
                try {
                    return parser.parse(in);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
    }

    public static OtlpReceiver grpc() throws IOException {
        return new OtlpReceiver(true);
    }

    private synchronized void received(ExportTraceServiceRequest request) {
        exports++;
        for (ResourceSpans rs : request.getResourceSpansList()) {
            for (ScopeSpans ss : rs.getScopeSpansList()) {
                for (Span s : ss.getSpansList()) {
                    spans.add(new Received(s, rs.getResource()));
                }
            }
        }
        notifyAll();
    }

    /** The URL River exports to: the traces path for OTLP/HTTP, the address for OTLP/gRPC. */
    public URI endpoint() {
        if (grpcServer != null) {
            return URI.create("http://127.0.0.1:" + ((InetSocketAddress) grpcServer.getListenSockets().get(0)).getPort());
        }
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces");
    }

    /** Waits (woken by each export) until {@code count} received spans match; fails after {@code ms}. */
    public synchronized List<Received> await(Predicate<Received> matching, int count, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (true) {
            List<Received> found = spans.stream().filter(matching).toList();
            if (found.size() >= count) {
                return found;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new AssertionError("expected " + count + " matching spans within " + ms + " ms, received " + found.size() + " of " + spans.size());
            }
            wait(left);
        }
    }

    /** Every span received so far. */
    public synchronized List<Received> spans() {
        return List.copyOf(spans);
    }

    /** How many export requests arrived. */
    public synchronized int exports() {
        return exports;
    }

    @Override
    public void close() {
        if (grpcServer != null) {
            grpcServer.shutdownNow();
        } else {
            server.stop(0);
        }
    }
}
