package river.config;

import io.netty.util.NetUtil;
import java.util.Arrays;

/** An IPv4 or IPv6 network: the address bytes and the number of leading bits that must match. */
public record CidrRange(byte[] network, int prefixLength) {

    /**
     * Parses {@code ADDR/BITS} or a bare address (a single host). Only literals are accepted: no name
     * is ever resolved. Returns null when the text is not a valid range.
     */
    public static CidrRange parse(String text) {
        String s = text.strip();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(addr);
        if (bytes == null || addr.isEmpty()) {
            return null;
        }
        int max = bytes.length * 8;
        int bits = max;
        if (slash >= 0) {
            String b = s.substring(slash + 1);
            if (!b.matches("[0-9]{1,3}")) {
                return null;
            }
            bits = Integer.parseInt(b);
            if (bits > max) {
                return null;
            }
        }
        return new CidrRange(mask(bytes, bits), bits);
    }

    private static byte[] mask(byte[] bytes, int bits) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            out[i] &= (byte) (0xFF << (8 - keep));
        }
        return out;
    }

    /** Whether the address (4 or 16 bytes) lies in this range; IPv4 and IPv6 never match each other. */
    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        // Masked byte by byte in place: called per connection and per request, it allocates nothing.
        for (int i = 0; i < network.length; i++) {
            int keep = Math.max(0, Math.min(8, prefixLength - i * 8));
            if ((byte) (address[i] & (0xFF << (8 - keep))) != network[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrRange c && c.prefixLength == prefixLength && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    @Override
    public String toString() {
        return NetUtil.bytesToIpAddress(network) + "/" + prefixLength;
    }
}
