package io.tollgate.proxy.limit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/**
 * The conformance suite against a Redis of the test's own, standalone or cluster: the Redis
 * limiters, fail-closed, on one link to it.
 */
abstract class RedisConformanceTest<R extends TestRedis> extends LimiterConformanceTest {

    R redis;
    private RedisLink link;

    /** Starts the Redis the suite runs against. */
    abstract R startRedis();

    @BeforeAll
    void connect() {
        redis = startRedis();
        link = RedisLink.open(redis.url(), Duration.ofMillis(250));
    }

    @AfterAll
    void disconnect() {
        if (link != null) {
            link.close();
        }
        if (redis != null) {
            redis.close();
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
}
