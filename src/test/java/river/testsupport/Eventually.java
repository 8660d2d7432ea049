package river.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests for something River does in the background (health checks, DNS refreshes). */
public final class Eventually {
    private Eventually() {}

    /** Polls {@code condition} until it holds; fails the test after {@code ms}. */
    public static void await(BooleanSupplier condition, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met in %d ms", ms).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
