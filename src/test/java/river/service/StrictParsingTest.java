package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import river.testsupport.RawHttp;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Known request-smuggling and malformed shapes: each gets a 4xx, the connection is closed, and the
 * origin never sees a request.
 */
class StrictParsingTest {
    static TestOrigin origin;
    static RiverHarness river;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        river = RiverHarness.start(RiverHarness.proxyConfig(1,
                "    limits max-request-line-bytes=1024 max-request-header-bytes=2048\n", origin.address()));
        port = river.port("proxy");
    }

    @AfterAll
    static void stop() {
        river.close();
        origin.close();
    }

    private static void assertRejected(String request, int status) throws Exception {
        int before = origin.requestsReceived();
        try (RawHttp raw = new RawHttp(port)) {
            raw.send(request);
            RawHttp.Response r = raw.read();
            assertThat(r.status()).as("status for %s", request).isEqualTo(status);
            assertThat(r.headers().get("connection")).isEqualToIgnoringCase("close");
            assertThat(raw.closedByPeer()).isTrue();
        }
        assertThat(origin.requestsReceived()).as("forwarded requests").isEqualTo(before);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // Content-Length and Transfer-Encoding together (CL.TE / TE.CL)
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n",
        // duplicate and conflicting Content-Length
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello",
        // obfuscated Transfer-Encoding
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  chunked, identity\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\u000b\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // bare LF and bare CR line endings
        "GET / HTTP/1.1\nHost: h\n\n",
        "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
        "GET / HTTP/1.1\rHost: h\r\n\r\n",
        // control bytes and NUL in names or values
        "GET / HTTP/1.1\r\nHost: h\r\nX-A\u0000: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\u0000c\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\u0001c\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
        // oversized chunk size and malformed chunks
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        // missing or duplicate Host in HTTP/1.1
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        // garbage request lines
        "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
        "\u0000GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    })
    void smugglingShapeGets400AndIsNeverForwarded(String request) throws Exception {
        int before = origin.requestsReceived();
        try (RawHttp raw = new RawHttp(port)) {
            raw.send(request);
            RawHttp.Response r;
            try {
                r = raw.read();
            } catch (java.io.IOException closedWithoutAnswer) {
                r = null;
            }
            if (r != null) {
                assertThat(r.status()).as("status for %s", request).isEqualTo(400);
                assertThat(raw.closedByPeer()).isTrue();
            }
        }
        assertThat(origin.requestsReceived()).as("forwarded requests").isEqualTo(before);
    }

    @Test
    void unknownHttpVersionGets505() throws Exception {
        assertRejected("GET / HTTP/9.9\r\nHost: h\r\n\r\n", 505);
    }

    @Test
    void oversizedRequestLineGets414() throws Exception {
        assertRejected("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414);
    }

    @Test
    void oversizedHeadersGet431() throws Exception {
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "b".repeat(4000) + "\r\n\r\n", 431);
    }

    @Test
    void aCorrectChunkedRequestStillWorks() throws Exception {
        try (RawHttp raw = new RawHttp(port)) {
            raw.send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).contains("body-length: 11");
        }
    }
}
