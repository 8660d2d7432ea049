package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Range membership, masked in place, against the plain definition: mask a copy of the address and compare. */
class CidrRangeTest {

    /** The definition: the address's first {@code prefixLength} bits equal the network's. */
    private static boolean reference(CidrRange range, byte[] address) {
        if (address.length != range.network().length) {
            return false;
        }
        byte[] masked = address.clone();
        for (int i = 0; i < masked.length; i++) {
            int keep = Math.max(0, Math.min(8, range.prefixLength() - i * 8));
            masked[i] &= (byte) (0xFF << (8 - keep));
        }
        return Arrays.equals(masked, range.network());
    }

    @Test
    void membershipMatchesTheDefinitionAtEveryPrefixLength() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 20_000; round++) {
            byte[] base = new byte[random.nextBoolean() ? 4 : 16];
            random.nextBytes(base);
            int bits = random.nextInt(base.length * 8 + 1);
            CidrRange range = CidrRange.parse(InetAddress.getByAddress(base).getHostAddress() + "/" + bits);
            byte[] address = base.clone();
            // Near misses: flip one bit, inside or outside the prefix; sometimes the other family.
            int flip = random.nextInt(address.length * 8);
            address[flip / 8] ^= (byte) (0x80 >>> (flip % 8));
            byte[] probe = random.nextInt(10) == 0 ? new byte[address.length == 4 ? 16 : 4] : address;
            assertThat(range.contains(probe)).as("%s contains %s", range, Arrays.toString(probe)).isEqualTo(reference(range, probe));
            assertThat(range.contains(base)).isTrue();
            assertThat(CidrSet.of(List.of(range)).contains(InetAddress.getByAddress(probe))).isEqualTo(reference(range, probe));
        }
    }

    @Test
    void aSetHoldsItsOwnCopyAndNoAddressIsInIt() throws Exception {
        CidrRange range = CidrRange.parse("10.0.0.0/8");
        CidrSet set = CidrSet.of(List.of(range, CidrRange.parse("2001:db8::/32")));
        range.network()[0] = 11;
        assertThat(set.contains(InetAddress.getByName("10.1.2.3"))).as("changing the record's array changes nothing").isTrue();
        assertThat(set.contains(InetAddress.getByName("2001:db8::1"))).isTrue();
        assertThat(set.contains(InetAddress.getByName("11.1.2.3"))).isFalse();
        assertThat(set.contains((InetAddress) null)).as("a Unix-socket client").isFalse();
    }
}
