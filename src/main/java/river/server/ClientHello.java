package river.server;

import io.netty.buffer.ByteBuf;

/**
 * What River reads from a TLS ClientHello before choosing a certificate: the server name (SNI,
 * RFC 6066) and whether ALPN offers {@code acme-tls/1} (RFC 8737). Parsed strictly and within its
 * own bounds: every length must fit inside the structure that holds it.
 *
 * @param serverName the first host_name of server_name, lower case; null when absent
 * @param offersAcmeTls whether application_layer_protocol_negotiation lists acme-tls/1
 * @param malformed whether the message does not parse; the connection is then refused
 */
record ClientHello(String serverName, boolean offersAcmeTls, boolean malformed) {
    static final ClientHello NONE = new ClientHello(null, false, false);
    static final ClientHello MALFORMED = new ClientHello(null, false, true);
    private static final int SERVER_NAME = 0;
    private static final int ALPN = 16;
    private static final int MAX_HOST_NAME = 255;
    private static final byte[] ACME_TLS_1 = TlsContexts.ACME_TLS_1.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Parses the body of a ClientHello handshake message (from client_version, without the handshake
     * header), as Netty's SslClientHelloHandler hands it over reassembled from its records; null
     * (the first record held no ClientHello) gives {@link #NONE}.
     */
    static ClientHello parse(ByteBuf body) {
        if (body == null) {
            return NONE;
        }
        int end = body.writerIndex();
        int i = body.readerIndex() + 2 + 32; // client_version, random
        if (i + 1 > end) {
            return MALFORMED;
        }
        int sessionId = body.getUnsignedByte(i);
        i += 1 + sessionId;
        if (sessionId > 32 || i + 2 > end) {
            return MALFORMED;
        }
        int suites = body.getUnsignedShort(i);
        i += 2 + suites;
        if (suites < 2 || (suites & 1) != 0 || i + 1 > end) {
            return MALFORMED;
        }
        int compression = body.getUnsignedByte(i);
        i += 1 + compression;
        if (compression < 1 || i > end) {
            return MALFORMED;
        }
        if (i == end) {
            return NONE; // no extensions at all
        }
        if (i + 2 > end || i + 2 + body.getUnsignedShort(i) != end) {
            return MALFORMED;
        }
        i += 2;
        String serverName = null;
        boolean acme = false;
        boolean sawServerName = false;
        boolean sawAlpn = false;
        while (i < end) {
            if (i + 4 > end) {
                return MALFORMED;
            }
            int type = body.getUnsignedShort(i);
            int length = body.getUnsignedShort(i + 2);
            i += 4;
            int extensionEnd = i + length;
            if (extensionEnd > end) {
                return MALFORMED;
            }
            if (type == SERVER_NAME) {
                if (sawServerName) {
                    return MALFORMED; // an extension may appear once (RFC 8446 §4.2)
                }
                sawServerName = true;
                serverName = serverName(body, i, extensionEnd);
                if (serverName == null) {
                    return MALFORMED;
                }
                serverName = serverName.isEmpty() ? null : serverName;
            } else if (type == ALPN) {
                if (sawAlpn) {
                    return MALFORMED;
                }
                sawAlpn = true;
                int offers = offersAcmeTls(body, i, extensionEnd);
                if (offers < 0) {
                    return MALFORMED;
                }
                acme = offers == 1;
            }
            i = extensionEnd;
        }
        return serverName == null && !acme ? NONE : new ClientHello(serverName, acme, false);
    }

    /** The first host_name of a server_name extension's data, lower case; "" when none is a host_name; null when malformed. */
    private static String serverName(ByteBuf b, int i, int end) {
        if (i + 2 > end || i + 2 + b.getUnsignedShort(i) != end) {
            return null;
        }
        i += 2;
        String first = "";
        while (i < end) {
            if (i + 3 > end) {
                return null;
            }
            int type = b.getUnsignedByte(i);
            int length = b.getUnsignedShort(i + 1);
            i += 3;
            if (length == 0 || i + length > end) {
                return null;
            }
            if (type == 0 && first.isEmpty()) {
                if (length > MAX_HOST_NAME) {
                    return null;
                }
                char[] name = new char[length];
                for (int k = 0; k < length; k++) {
                    int c = b.getUnsignedByte(i + k);
                    if (c <= 0x20 || c >= 0x7f) {
                        return null;
                    }
                    name[k] = (char) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
                }
                first = new String(name);
            }
            i += length;
        }
        return first;
    }

    /** 1 when an ALPN extension's data lists acme-tls/1, 0 when not, -1 when malformed. */
    private static int offersAcmeTls(ByteBuf b, int i, int end) {
        if (i + 2 > end || i + 2 + b.getUnsignedShort(i) != end || i + 2 == end) {
            return -1;
        }
        i += 2;
        int found = 0;
        while (i < end) {
            int length = b.getUnsignedByte(i);
            i++;
            if (length == 0 || i + length > end) {
                return -1;
            }
            if (length == ACME_TLS_1.length) {
                boolean same = true;
                for (int k = 0; k < length && same; k++) {
                    same = b.getByte(i + k) == ACME_TLS_1[k];
                }
                found = same ? 1 : found;
            }
            i += length;
        }
        return found;
    }
}
