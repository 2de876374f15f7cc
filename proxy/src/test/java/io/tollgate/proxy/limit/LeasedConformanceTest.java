package io.tollgate.proxy.limit;

import java.time.Duration;

/**
 * The conformance suite through a {@link LeasedRateLimiter}, as {@code Limiters} builds it with
 * Redis: at the suite's per-minute limits no pool is worth taking, so every answer must be the
 * exact GCRA's, to the header.
 */
class LeasedConformanceTest extends RedisConformanceTest<RedisServer> {

    @Override
    RedisServer startRedis() {
        return RedisServer.start();
    }

    @Override
    RateLimiter rateLimiter(ManualClock clock) {
        RedisRateLimiter perRequest = (RedisRateLimiter) super.rateLimiter(clock);
        return clock == null
                ? new LeasedRateLimiter(perRequest, LimiterConfig.DEFAULT_LEASE_WINDOW)
                : new LeasedRateLimiter(perRequest, LimiterConfig.DEFAULT_LEASE_WINDOW, () -> clock.getAsLong() * 1_000_000L);
    }
}
