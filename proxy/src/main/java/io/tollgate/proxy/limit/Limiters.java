package io.tollgate.proxy.limit;

import io.netty.channel.EventLoopGroup;
import io.tollgate.schema.RateLimits;

/**
 * The rate limiter and the concurrency slots for one {@link LimiterConfig}: in memory when no
 * Redis URL is set, otherwise both on one shared Redis connection. Close it at shutdown.
 */
public final class Limiters implements AutoCloseable {

    private final LimiterConfig config;
    private final RateLimiter rateLimiter;
    private final ConcurrencySlots slots;
    private final RedisLink link;

    private Limiters(LimiterConfig config, RateLimiter rateLimiter, ConcurrencySlots slots, RedisLink link) {
        this.config = config;
        this.rateLimiter = rateLimiter;
        this.slots = slots;
        this.link = link;
    }

    /**
     * Builds the pair. With a Redis URL this connects (waiting about a second at most); if Redis
     * is not up yet it keeps trying in the background and the failure policy answers meanwhile.
     */
    public static Limiters create(LimiterConfig config) {
        return create(config, null);
    }

    /**
     * The same, with the Redis connection on one of {@code loops} (the proxy's own event loops,
     * when Lettuce uses the same transport) instead of on threads of Lettuce's.
     */
    public static Limiters create(LimiterConfig config, EventLoopGroup loops) {
        if (config.redisUrl() == null) {
            return new Limiters(config, new InProcessRateLimiter(), new InProcessConcurrencySlots(), null);
        }
        RedisLink link = RedisLink.open(config.redisUrl(), config.timeout(), loops);
        RedisRateLimiter perRequest = new RedisRateLimiter(link, config.failurePolicy());
        return new Limiters(config,
                config.leaseWindow().isZero() ? perRequest : new LeasedRateLimiter(perRequest, config.leaseWindow()),
                new RedisConcurrencySlots(link, config.failurePolicy()),
                link);
    }

    /** The key's own {@code rate_limits} override for the class if set, else its tier's limit. */
    public static int limitFor(String tier, RateLimits keyOverrides, LimitClass cls, LimiterConfig config) {
        return config.limitFor(tier, keyOverrides, cls);
    }

    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    public ConcurrencySlots slots() {
        return slots;
    }

    public LimiterConfig config() {
        return config;
    }

    /** True when limits are shared through Redis by every proxy instance. */
    public boolean shared() {
        return link != null;
    }

    @Override
    public void close() {
        rateLimiter.close();
        slots.close();
        if (link != null) {
            link.close();
        }
    }
}
