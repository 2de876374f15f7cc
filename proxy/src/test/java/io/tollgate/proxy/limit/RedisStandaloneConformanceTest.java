package io.tollgate.proxy.limit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance suite against a test-owned standalone redis-server. */
class RedisStandaloneConformanceTest extends LimiterConformanceTest {

    private RedisServer server;
    private RedisLink link;

    @BeforeAll
    void startRedis() {
        server = RedisServer.start();
        link = RedisLink.open(server.url(), Duration.ofMillis(250));
    }

    @AfterAll
    void stopRedis() {
        if (link != null) {
            link.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Override
    RateLimiter rateLimiter(ManualClock clock) {
        return new RedisRateLimiter(link, FailurePolicy.CLOSED, clock);
    }

    @Override
    ConcurrencySlots slots(ManualClock clock) {
        return new RedisConcurrencySlots(link, FailurePolicy.CLOSED, clock);
    }

    @Test
    void keysCarryTheKeyIdAsHashTagAndExpireWithTheWindow() {
        String key = newId();
        RateLimiter limiter = rateLimiter(null);
        take(limiter, key, LimitClass.IMAGE_POLL, 30);
        String redisKey = "rl:{" + key + "}:image_poll";
        assertThat(server.cli("EXISTS", redisKey)).isEqualTo("1");
        assertThat(Long.parseLong(server.cli("PTTL", redisKey))).isBetween(1L, 2_000L); // one interval: 60 s / 30
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
