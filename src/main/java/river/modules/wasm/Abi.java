package river.modules.wasm;

import static river.modules.wasm.PluginVm.BAD_ARGUMENT;
import static river.modules.wasm.PluginVm.NOT_FOUND;
import static river.modules.wasm.PluginVm.OK;

import com.dylibso.chicory.runtime.WasmFunctionHandle;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * The proxy-wasm host functions ({@code env.proxy_*}, ABI 0.2.1 and 0.1.0) River implements, over
 * the request and response heads of the VM's current stream. See docs/wasm.md for what is missing.
 */
final class Abi {
    // Map types.
    private static final int REQUEST_HEADERS = 0;
    private static final int REQUEST_TRAILERS = 1;
    private static final int RESPONSE_HEADERS = 2;
    private static final int RESPONSE_TRAILERS = 3;
    private static final int HTTP_CALL_RESPONSE_HEADERS = 6;
    // Buffer types.
    private static final int REQUEST_BODY = 0;
    private static final int RESPONSE_BODY = 1;
    private static final int HTTP_CALL_RESPONSE_BODY = 4;
    private static final int VM_CONFIGURATION = 6;
    private static final int PLUGIN_CONFIGURATION = 7;
    // Stream types (proxy_continue_stream).
    private static final int REQUEST_STREAM = 0;
    private static final int RESPONSE_STREAM = 1;

    private Abi() {}

    private static long[] r(int code) {
        return new long[] {code};
    }

    /** The handle of {@code env.name}, or null when River does not implement it. */
    static WasmFunctionHandle handle(String name, PluginVm vm) {
        return switch (name) {
            case "proxy_log" -> (inst, a) -> r(log(vm, (int) a[0], vm.string(a[1], a[2])));
            case "proxy_get_log_level" -> (inst, a) -> {
                vm.writeI32(a[0], vm.plugin.logLevel());
                return r(OK);
            };
            case "proxy_get_current_time_nanoseconds" -> (inst, a) -> {
                java.time.Instant now = java.time.Instant.now();
                vm.writeI64(a[0], now.getEpochSecond() * 1_000_000_000L + now.getNano());
                return r(OK);
            };
            case "proxy_set_effective_context" -> (inst, a) -> {
                if (a[0] == PluginVm.ROOT_CONTEXT) {
                    vm.current(null);
                    return r(OK);
                }
                PluginVm.Stream s = vm.stream((int) a[0]);
                if (s == null) {
                    return r(BAD_ARGUMENT);
                }
                vm.current(s);
                return r(OK);
            };
            case "proxy_get_header_map_pairs" -> (inst, a) -> {
                int type = (int) a[0];
                if (type == HTTP_CALL_RESPONSE_HEADERS) {
                    List<Map.Entry<String, String>> pairs = callPairs(vm);
                    return r(pairs == null ? NOT_FOUND : vm.give(serialize(pairs), a[1], a[2]));
                }
                HttpHeaders headers = headers(vm, type);
                return r(headers == null ? NOT_FOUND
                        : vm.headerMaps().pairs(type == REQUEST_HEADERS, type == RESPONSE_HEADERS, headers, vm.current(), a[1], a[2]));
            };
            case "proxy_get_header_map_size" -> (inst, a) -> {
                int type = (int) a[0];
                if (type == HTTP_CALL_RESPONSE_HEADERS) {
                    List<Map.Entry<String, String>> pairs = callPairs(vm);
                    if (pairs == null) {
                        return r(NOT_FOUND);
                    }
                    vm.writeI32(a[1], serialize(pairs).length);
                    return r(OK);
                }
                HttpHeaders headers = headers(vm, type);
                return r(headers == null ? NOT_FOUND
                        : vm.headerMaps().size(type == REQUEST_HEADERS, type == RESPONSE_HEADERS, headers, vm.current(), a[1]));
            };
            case "proxy_get_header_map_value" -> (inst, a) -> {
                int type = (int) a[0];
                if (type == HTTP_CALL_RESPONSE_HEADERS) {
                    List<Map.Entry<String, String>> pairs = callPairs(vm);
                    if (pairs == null) {
                        return r(NOT_FOUND);
                    }
                    String key = vm.string(a[1], a[2]).toLowerCase(Locale.ROOT);
                    for (Map.Entry<String, String> e : pairs) {
                        if (e.getKey().equals(key)) {
                            return r(vm.give(e.getValue().getBytes(StandardCharsets.UTF_8), a[3], a[4]));
                        }
                    }
                    return r(NOT_FOUND);
                }
                HttpHeaders headers = headers(vm, type);
                return r(headers == null ? NOT_FOUND
                        : vm.headerMaps().value(type == REQUEST_HEADERS, type == RESPONSE_HEADERS, headers, vm.current(), a[1], a[2], a[3], a[4]));
            };
            case "proxy_add_header_map_value" -> (inst, a) -> r(change(vm, (int) a[0], a[1], a[2], a[3], a[4], true));
            case "proxy_replace_header_map_value" -> (inst, a) -> r(change(vm, (int) a[0], a[1], a[2], a[3], a[4], false));
            case "proxy_remove_header_map_value" -> (inst, a) -> r(remove(vm, (int) a[0], a[1], a[2]));
            case "proxy_set_header_map_pairs" -> (inst, a) -> {
                HttpHeaders headers = headers(vm, (int) a[0]);
                if (headers == null) {
                    return r(NOT_FOUND);
                }
                List<Map.Entry<String, String>> pairs = deserialize(vm.bytes(a[1], a[2]));
                if (pairs == null) {
                    return r(BAD_ARGUMENT);
                }
                headers.clear();
                for (Map.Entry<String, String> e : pairs) {
                    int code = change(vm, (int) a[0], e.getKey(), e.getValue(), true);
                    if (code != OK) {
                        return r(code);
                    }
                }
                return r(OK);
            };
            case "proxy_get_buffer_bytes" -> (inst, a) -> {
                if (a[0] == REQUEST_BODY || a[0] == RESPONSE_BODY) {
                    BodyBuffer body = body(vm, (int) a[0]);
                    return r(body == null ? NOT_FOUND : vm.give(body.slice(a[1], a[2]), a[3], a[4]));
                }
                byte[] buffer = buffer(vm, (int) a[0]);
                if (buffer == null) {
                    return r(NOT_FOUND);
                }
                int start = (int) Math.min(Math.max(a[1], 0), buffer.length);
                int length = (int) Math.min(Math.max(a[2], 0), buffer.length - start);
                byte[] slice = java.util.Arrays.copyOfRange(buffer, start, start + length);
                return r(vm.give(slice, a[3], a[4]));
            };
            case "proxy_get_buffer_status" -> (inst, a) -> {
                if (a[0] == REQUEST_BODY || a[0] == RESPONSE_BODY) {
                    BodyBuffer body = body(vm, (int) a[0]);
                    if (body == null) {
                        return r(NOT_FOUND);
                    }
                    vm.writeI32(a[1], body.size());
                    vm.writeI32(a[2], body.endOfStream ? 1 : 0);
                    return r(OK);
                }
                byte[] buffer = buffer(vm, (int) a[0]);
                if (buffer == null) {
                    return r(NOT_FOUND);
                }
                vm.writeI32(a[1], buffer.length);
                vm.writeI32(a[2], 1); // end of stream: the buffers River gives are whole
                return r(OK);
            };
            case "proxy_set_buffer_bytes" -> (inst, a) -> {
                BodyBuffer body = a[0] == REQUEST_BODY || a[0] == RESPONSE_BODY ? body(vm, (int) a[0]) : null;
                if (body == null) {
                    return r(NOT_FOUND);
                }
                return r(body.replace(a[1], a[2], vm.bytes(a[3], a[4])) ? OK : BAD_ARGUMENT);
            };
            case "proxy_send_local_response" -> (inst, a) -> r(localResponse(vm, (int) a[0], vm.bytes(a[3], a[4]), vm.bytes(a[5], a[6])));
            case "proxy_continue_stream" -> (inst, a) -> r(continueStream(vm, a.length == 0 ? REQUEST_STREAM : (int) a[0]));
            case "proxy_continue_request" -> (inst, a) -> r(continueStream(vm, REQUEST_STREAM));
            case "proxy_continue_response" -> (inst, a) -> r(continueStream(vm, RESPONSE_STREAM));
            case "proxy_get_property" -> (inst, a) -> {
                byte[] value = property(vm, vm.string(a[0], a[1]));
                return r(value == null ? NOT_FOUND : vm.give(value, a[2], a[3]));
            };
            case "proxy_get_shared_data" -> (inst, a) -> {
                SharedData.Entry e = vm.plugin.shared().get(vm.string(a[0], a[1]));
                if (e == null) {
                    return r(NOT_FOUND);
                }
                vm.writeI32(a[4], e.cas());
                return r(vm.give(e.value(), a[2], a[3]));
            };
            case "proxy_set_shared_data" -> (inst, a) -> r(vm.plugin.shared().set(vm.string(a[0], a[1]), vm.bytes(a[2], a[3]), (int) a[4]));
            case "proxy_define_metric" -> (inst, a) -> {
                int id = vm.plugin.metrics().define((int) a[0], vm.string(a[1], a[2]));
                if (id < 0) {
                    return r(BAD_ARGUMENT);
                }
                vm.writeI32(a[3], id);
                return r(OK);
            };
            case "proxy_increment_metric" -> (inst, a) -> r(vm.plugin.metrics().increment((int) a[0], a[1]));
            case "proxy_record_metric" -> (inst, a) -> r(vm.plugin.metrics().record((int) a[0], a[1]));
            case "proxy_get_metric" -> (inst, a) -> {
                Long v = vm.plugin.metrics().get((int) a[0]);
                if (v == null) {
                    return r(NOT_FOUND);
                }
                vm.writeI64(a[1], v);
                return r(OK);
            };
            case "proxy_done" -> (inst, a) -> r(OK);
            case "proxy_dispatch_http_call", "proxy_http_call" -> (inst, a) -> {
                List<Map.Entry<String, String>> pairs = deserialize(vm.bytes(a[2], a[3]));
                if (pairs == null) {
                    return r(BAD_ARGUMENT);
                }
                int token = vm.plugin.dispatch(vm, vm.string(a[0], a[1]), pairs, vm.bytes(a[4], a[5]), (int) a[8]);
                if (token < 0) {
                    return r(-token);
                }
                vm.writeI32(a[9], token);
                return r(OK);
            };
            default -> null;
        };
    }

    private static int log(PluginVm vm, int level, String message) {
        vm.plugin.log(level, message);
        return OK;
    }

    // ---- header maps --------------------------------------------------------------------------------

    private static HttpHeaders headers(PluginVm vm, int type) {
        PluginVm.Stream s = vm.current();
        if (s == null) {
            return null;
        }
        return switch (type) {
            case REQUEST_HEADERS -> s.requestHeaders();
            case RESPONSE_HEADERS -> s.response == null ? null : s.response.headers();
            case REQUEST_TRAILERS -> s.requestBody.trailers;
            case RESPONSE_TRAILERS -> s.responseBody.trailers;
            default -> null;
        };
    }

    /** The call-out answer's pairs (map 6) while its callback runs, else null. */
    private static List<Map.Entry<String, String>> callPairs(PluginVm vm) {
        return vm.callResponse() == null ? null : vm.callResponse().headers();
    }

    /** {@code proxy_continue_stream}: the request (0) or the response (1) of the current stream goes on once the callback returns. */
    private static int continueStream(PluginVm vm, int streamType) {
        PluginVm.Stream s = vm.current();
        if (s == null || (streamType != REQUEST_STREAM && streamType != RESPONSE_STREAM)) {
            return BAD_ARGUMENT; // the root context has no stream; 2 and 3 (downstream, upstream) are a TCP filter's
        }
        if (streamType == REQUEST_STREAM) {
            s.continuedRequest = true;
        } else {
            s.continuedResponse = true;
        }
        return OK;
    }

    private static Map.Entry<String, String> pair(String k, String v) {
        return new AbstractMap.SimpleImmutableEntry<>(k, v);
    }

    /** Adds ({@code add}) or replaces one header whose name and value the plugin wrote at the given places. */
    private static int change(PluginVm vm, int type, long namePtr, long nameSize, long valuePtr, long valueSize, boolean add) {
        if (headers(vm, type) == null) {
            return NOT_FOUND;
        }
        HeaderMaps maps = vm.headerMaps();
        return change(vm, type, maps.text(namePtr, nameSize, true), maps.text(valuePtr, valueSize, false), add);
    }

    /** Removes one header, looked up by a view of its name in the plugin's memory (nothing copied). */
    private static int remove(PluginVm vm, int type, long namePtr, long nameSize) {
        HttpHeaders headers = headers(vm, type);
        if (headers == null) {
            return NOT_FOUND;
        }
        HeaderMaps.Name name = vm.headerMaps().name(namePtr, nameSize);
        if (name == null) {
            return PluginVm.INVALID_MEMORY_ACCESS;
        }
        if (name.length() > 0 && name.charAt(0) == ':') {
            return BAD_ARGUMENT; // a pseudo-header cannot be removed
        }
        headers.remove(name);
        return OK;
    }

    /** Adds ({@code add}), replaces, or removes ({@code value} null) one header, pseudo-headers included. */
    private static int change(PluginVm vm, int type, CharSequence name, CharSequence value, boolean add) {
        HttpHeaders headers = headers(vm, type);
        if (headers == null) {
            return NOT_FOUND;
        }
        PluginVm.Stream s = vm.current();
        CharSequence key = name instanceof AsciiString ascii ? ascii.toLowerCase() : name.toString().toLowerCase(Locale.ROOT);
        try {
            if (key.length() > 0 && key.charAt(0) == ':') {
                return type == REQUEST_TRAILERS || type == RESPONSE_TRAILERS ? BAD_ARGUMENT
                        : pseudo(s, type, key.toString(), value == null ? null : value.toString());
            }
            if (value == null) {
                headers.remove(key);
            } else if (add) {
                headers.add(key, value);
            } else {
                headers.set(key, value);
            }
            return OK;
        } catch (IllegalArgumentException e) {
            return BAD_ARGUMENT; // a name or value HTTP forbids (CR, LF, …): Netty's validation refused it
        }
    }

    private static int pseudo(PluginVm.Stream s, int type, String key, String value) {
        if (value == null) {
            return BAD_ARGUMENT;
        }
        if (type == REQUEST_HEADERS) {
            switch (key) {
                case ":path" -> {
                    if (!value.startsWith("/")) {
                        return BAD_ARGUMENT;
                    }
                    int q = value.indexOf('?');
                    s.ctx.rewritePath(q < 0 ? value : value.substring(0, q));
                    s.ctx.request().setUri(value);
                }
                case ":method" -> s.ctx.request().setMethod(HttpMethod.valueOf(value));
                case ":authority" -> s.ctx.request().headers().set(HttpHeaderNames.HOST, value);
                default -> {
                    return BAD_ARGUMENT;
                }
            }
            return OK;
        }
        if (key.equals(":status")) {
            try {
                s.response.setStatus(HttpResponseStatus.valueOf(Integer.parseInt(value)));
                return OK;
            } catch (NumberFormatException e) {
                return BAD_ARGUMENT;
            }
        }
        return BAD_ARGUMENT;
    }

    /** The ABI's map encoding: count, then each key and value size, then each key and value NUL-terminated; all little-endian. */
    static byte[] serialize(List<Map.Entry<String, String>> pairs) {
        List<byte[]> parts = new ArrayList<>(pairs.size() * 2);
        int size = 4;
        for (Map.Entry<String, String> e : pairs) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] v = e.getValue().getBytes(StandardCharsets.UTF_8);
            parts.add(k);
            parts.add(v);
            size += 8 + k.length + v.length + 2;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(pairs.size());
        for (byte[] p : parts) {
            b.putInt(p.length);
        }
        for (byte[] p : parts) {
            b.put(p).put((byte) 0);
        }
        return b.array();
    }

    /** The pairs of {@link #serialize}'s encoding, or null when {@code data} is not one. */
    static List<Map.Entry<String, String>> deserialize(byte[] data) {
        if (data.length == 0) {
            return List.of();
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            int n = b.getInt();
            if (n < 0 || n > (data.length - 4) / 8) {
                return null;
            }
            int[] sizes = new int[n * 2];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = b.getInt();
            }
            List<Map.Entry<String, String>> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String k = text(b, sizes[2 * i]);
                String v = text(b, sizes[2 * i + 1]);
                out.add(pair(k, v));
            }
            return out;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String text(ByteBuffer b, int size) {
        byte[] s = new byte[size];
        b.get(s);
        b.get(); // the NUL
        return new String(s, StandardCharsets.UTF_8);
    }

    // ---- buffers, local responses, properties -------------------------------------------------------

    private static byte[] buffer(PluginVm vm, int type) {
        return switch (type) {
            case HTTP_CALL_RESPONSE_BODY -> vm.callResponse() == null ? null : vm.callResponse().body();
            case VM_CONFIGURATION -> vm.plugin.config().vmConfiguration().getBytes(StandardCharsets.UTF_8);
            case PLUGIN_CONFIGURATION -> vm.plugin.config().configuration().getBytes(StandardCharsets.UTF_8);
            default -> null;
        };
    }

    /** The request or response body while its callback runs (its data is there), or null. */
    private static BodyBuffer body(PluginVm vm, int type) {
        PluginVm.Stream s = vm.current();
        BodyBuffer b = s == null ? null : type == REQUEST_BODY ? s.requestBody : s.responseBody;
        return b == null || b.data == null ? null : b;
    }

    private static int localResponse(PluginVm vm, int status, byte[] body, byte[] headerBytes) {
        PluginVm.Stream s = vm.current();
        if (s == null || status < 200 || status > 999) {
            return BAD_ARGUMENT;
        }
        List<Map.Entry<String, String>> pairs = deserialize(headerBytes);
        if (pairs == null) {
            return BAD_ARGUMENT;
        }
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        try {
            for (Map.Entry<String, String> e : pairs) {
                if (!e.getKey().startsWith(":")) {
                    head.headers().add(e.getKey(), e.getValue());
                }
            }
        } catch (IllegalArgumentException e) {
            return BAD_ARGUMENT;
        }
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (body.length > 0 && !head.headers().contains(HttpHeaderNames.CONTENT_TYPE)) {
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        }
        if (s.local != null) {
            s.local.discard();
        }
        s.local = new Verdict.Respond(head, body.length == 0 ? new Verdict.Body.Empty() : new Verdict.Body.Bytes(Unpooled.wrappedBuffer(body)));
        return OK;
    }

    /** The properties River knows (docs/wasm.md#properties), or null. */
    private static byte[] property(PluginVm vm, String path) {
        String key = path.replace('\0', '.');
        while (key.endsWith(".")) {
            key = key.substring(0, key.length() - 1);
        }
        switch (key) {
            case "plugin_name" -> {
                return utf8(vm.plugin.config().name());
            }
            case "plugin_root_id" -> {
                return utf8(vm.plugin.config().rootId());
            }
            case "plugin_vm_id" -> {
                return utf8("");
            }
            default -> {
                // per request below
            }
        }
        PluginVm.Stream s = vm.current();
        if (s == null) {
            return null;
        }
        RequestContext ctx = s.ctx;
        return switch (key) {
            case "request.path" -> utf8(ctx.request().uri());
            case "request.url_path" -> utf8(ctx.path());
            case "request.method" -> utf8(ctx.request().method().name());
            case "request.host" -> {
                String host = ctx.request().headers().get(HttpHeaderNames.HOST);
                yield host == null ? null : utf8(host);
            }
            case "request.scheme" -> utf8(ctx.secure() ? "https" : "http");
            case "request.protocol" -> utf8("HTTP/" + ctx.protocolVersion());
            case "source.address" -> ctx.client() == null ? null
                    : utf8(ctx.client().getAddress().getHostAddress() + ":" + ctx.client().getPort());
            case "source.port" -> ctx.client() == null ? null : int64(ctx.client().getPort());
            case "response.code" -> s.response == null ? null : int64(s.response.status().code());
            case "river.service", "cluster_name" -> utf8(ctx.service());
            case "river.route", "route_name" -> utf8(vm.plugin.routeName(ctx.route()));
            default -> null;
        };
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] int64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
