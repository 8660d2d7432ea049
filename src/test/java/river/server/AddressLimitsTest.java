package river.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.server.AddressLimits.Admission;

/** The per-address table on a clock the test moves: counts, the rate's burst and refill, and the table's bound. */
class AddressLimitsTest {
    private long now = 1_000_000_000L;
    private final InetAddress a = address(1);
    private final InetAddress b = address(2);

    private static InetAddress address(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private void advanceMs(long ms) {
        now += TimeUnit.MILLISECONDS.toNanos(ms);
    }

    @Test
    void anAddressHoldsAtMostItsLimitAndAnotherAddressIsNotAffected() {
        AddressLimits limits = new AddressLimits(2, 0, 100, () -> now);
        assertThat(limits.open(a)).isEqualTo(Admission.ADMITTED);
        assertThat(limits.open(a)).isEqualTo(Admission.ADMITTED);
        assertThat(limits.open(a)).isEqualTo(Admission.TOO_MANY);
        assertThat(limits.open(b)).isEqualTo(Admission.ADMITTED);
        limits.closed(a);
        assertThat(limits.open(a)).isEqualTo(Admission.ADMITTED);
    }

    @Test
    void theRateAllowsABurstOfOneSecondThenOneConnectionPerInterval() {
        AddressLimits limits = new AddressLimits(0, 4, 100, () -> now);
        for (int i = 0; i < 4; i++) {
            assertThat(limits.open(a)).as("connection %d of the burst", i).isEqualTo(Admission.ADMITTED);
            limits.closed(a);
        }
        assertThat(limits.open(a)).isEqualTo(Admission.TOO_FAST);
        assertThat(limits.open(b)).as("another address has its own bucket").isEqualTo(Admission.ADMITTED);
        advanceMs(249);
        assertThat(limits.open(a)).isEqualTo(Admission.TOO_FAST);
        advanceMs(1);
        assertThat(limits.open(a)).as("one token back after 1/4 s").isEqualTo(Admission.ADMITTED);
        assertThat(limits.open(a)).isEqualTo(Admission.TOO_FAST);
        advanceMs(10_000);
        for (int i = 0; i < 4; i++) {
            assertThat(limits.open(a)).as("a full burst again after a pause").isEqualTo(Admission.ADMITTED);
        }
        assertThat(limits.open(a)).isEqualTo(Admission.TOO_FAST);
    }

    @Test
    void anAddressIsForgottenOnceItHoldsNothingAndItsBucketIsFull() {
        AddressLimits limits = new AddressLimits(3, 2, 100, () -> now);
        limits.open(a);
        limits.open(b);
        limits.closed(b);
        assertThat(limits.tracked()).as("b's bucket is not full yet").isEqualTo(2);
        advanceMs(500);
        limits.closed(a);
        assertThat(limits.tracked()).as("a's bucket is full again").isEqualTo(1);
        AddressLimits countOnly = new AddressLimits(3, 0, 100, () -> now);
        countOnly.open(a);
        countOnly.closed(a);
        assertThat(countOnly.tracked()).isZero();
    }

    @Test
    void aFullTableIsSweptAndPastItsBoundNewAddressesAreNotTracked() {
        AddressLimits limits = new AddressLimits(1, 1, 3, () -> now);
        for (int i = 1; i <= 3; i++) {
            assertThat(limits.open(address(i))).isEqualTo(Admission.ADMITTED);
        }
        assertThat(limits.open(address(4))).isEqualTo(Admission.UNTRACKED);
        assertThat(limits.tracked()).isEqualTo(3);
        limits.closed(address(1));
        limits.closed(address(2));
        advanceMs(1_000);
        assertThat(limits.tracked()).as("swept lazily, only when full").isEqualTo(3);
        assertThat(limits.open(address(5))).isEqualTo(Admission.ADMITTED);
        assertThat(limits.tracked()).as("1 and 2 swept, 3 and 5 held").isEqualTo(2);
    }
}
