package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.RawHttp;
import river.testsupport.Redis;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** Fleet-wide limits: two Rivers share buckets in a real redis-server, and survive losing it. */
class RedisRateLimitTest {
    @TempDir
    Path dir;

    private static String config(String redisUrl, String origin) {
        return """
                services {
                    shared {
                        listeners {
                            "127.0.0.1:0"
                        }
                        connectors {
                            "%s"
                        }
                        rate-limiting {
                            redis "%s" key-prefix="river-test" timeout-ms=10000
                            rule kind="any-matching-uri" pattern="^/limited" tokens-per-bucket=6 refill-qty=1 refill-rate-ms=600000
                        }
                    }
                }
                """.formatted(origin, redisUrl);
    }

    private static int get(RiverHarness river, String path) throws Exception {
        try (RawHttp raw = new RawHttp(river.port("shared"))) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            return raw.read().status();
        }
    }

    @Test
    void twoRiversShareOneLimitAndFallBackToLocalLimitsWithoutRedis() throws Exception {
        Redis redis = new Redis(dir);
        try (river.testsupport.LogCapture log = river.testsupport.LogCapture.of("river.modules.ratelimit.RedisBuckets");
                TestOrigin origin = new TestOrigin();
                RiverHarness a = RiverHarness.start(config(redis.url(), origin.address()));
                RiverHarness b = RiverHarness.start(config(redis.url(), origin.address()))) {
            // Both connected (on a loaded machine the start's bounded wait can end first, and a River not yet
            // connected checks its local bucket), and bucket operations given 10 s, so nothing falls back.
            log.await("rate limits are shared through Redis", 2);
            int allowed = 0;
            for (int i = 0; i < 10; i++) {
                allowed += get(i % 2 == 0 ? a : b, "/limited/" + i) == 200 ? 1 : 0;
            }
            assertThat(allowed).as("six tokens between the two of them").isEqualTo(6);
            assertThat(get(a, "/other")).as("the rule does not apply").isEqualTo(200);

            redis.close();
            // Redis is gone: requests are still answered, now by a's own bucket, which no request has
            // touched while Redis answered (shared checks do not take local tokens): exactly six pass.
            java.util.List<Integer> statuses = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                statuses.add(get(a, "/limited/x"));
            }
            assertThat(statuses).as("a's full local bucket of six, then refusals").containsExactly(200, 200, 200, 200, 200, 200, 429, 429, 429, 429);
        } finally {
            redis.close();
        }
    }
}
