package io.tollgate.proxy.limit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance suite against a test-owned standalone redis-server. */
class RedisStandaloneConformanceTest extends RedisConformanceTest<RedisServer> {

    @Override
    RedisServer startRedis() {
        return RedisServer.start();
    }

    @Test
    void keysCarryTheKeyIdAsHashTagAndExpireWithTheWindow() {
        String key = newId();
        RateLimiter limiter = rateLimiter(null);
        take(limiter, key, LimitClass.IMAGE_POLL, 30);
        String redisKey = "rl:{" + key + "}:image_poll";
        assertThat(redis.cli("EXISTS", redisKey)).isEqualTo("1");
        assertThat(Long.parseLong(redis.cli("PTTL", redisKey))).isBetween(1L, 2_000L); // one interval: 60 s / 30
    }

    @Test
    void luaAndJavaGiveTheSameAnswersOnRandomTraffic() {
        // The in-process Gcra and the Lua script must agree exactly, or the fallback would drift.
        Random random = new Random(42);
        ManualClock clock = new ManualClock(T0);
        RateLimiter redis = rateLimiter(clock);
        InProcessRateLimiter local = new InProcessRateLimiter(clock::micros);
        int[] limits = {1, 7, 30, 200, 1000, 1500};
        for (int limit : limits) {
            String key = newId();
            for (int i = 0; i < 400; i++) {
                clock.advance(Duration.ofMillis(random.nextInt(3 * 60_000 / limit + 1)));
                int cost = random.nextInt(10) == 0 ? 1 + random.nextInt(Math.min(limit, 5)) : 1;
                Decision fromLua = take(redis, key, LimitClass.GENERAL, limit, cost);
                Decision fromJava = local.decide(key, LimitClass.GENERAL, limit, cost);
                assertThat(fromLua).as("limit %d, call %d", limit, i).isEqualTo(fromJava);
            }
        }
    }
}
