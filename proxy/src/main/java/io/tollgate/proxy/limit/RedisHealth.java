package io.tollgate.proxy.limit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small circuit breaker in front of Redis. After a few failures in a row Redis is "down":
 * calls skip it at once (no per-request timeout while it is frozen) except one probe per retry
 * interval, and the first successful probe brings everyone back. Logs once per outage.
 *
 * <p>Each call carries the generation it started in (even: up, odd: down), so a late answer to
 * a call from before the outage neither ends the outage nor starts a new one.
 */
final class RedisHealth {

    /** Returned by {@link #begin()} when the call should not go to Redis. */
    static final long SKIP = -1;

    private static final Logger log = LoggerFactory.getLogger(RedisHealth.class);

    private final String target;
    private final int failuresToOpen;
    private final long retryNanos;
    private final AtomicLong generation = new AtomicLong();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicLong nextProbeAt = new AtomicLong();
    private volatile long downSince;

    RedisHealth(String target, int failuresToOpen, Duration retryInterval) {
        this.target = target;
        this.failuresToOpen = failuresToOpen;
        this.retryNanos = retryInterval.toNanos();
    }

    /** The generation to pass back, or {@link #SKIP}. */
    long begin() {
        long gen = generation.get();
        if ((gen & 1) == 0) {
            return gen;
        }
        long now = System.nanoTime();
        long next = nextProbeAt.get();
        if (now - next >= 0 && nextProbeAt.compareAndSet(next, now + retryNanos)) {
            return gen;
        }
        return SKIP;
    }

    void succeeded(long gen) {
        consecutiveFailures.set(0);
        if ((gen & 1) == 1 && generation.compareAndSet(gen, gen + 1)) {
            log.info("Redis at {} answers again after {} ms; shared limits are back",
                    target, (System.nanoTime() - downSince) / 1_000_000);
        }
    }

    void failed(long gen, Throwable cause) {
        if ((gen & 1) == 1) {
            return; // a failed probe: the next one is already scheduled by begin()
        }
        int failures = consecutiveFailures.incrementAndGet();
        if (failures >= failuresToOpen && generation.compareAndSet(gen, gen + 1)) {
            long now = System.nanoTime();
            downSince = now;
            nextProbeAt.set(now + retryNanos);
            log.warn("Redis at {} is unreachable ({}); applying the failure policy until it answers",
                    target, describe(cause));
        } else if (log.isDebugEnabled()) {
            log.debug("Redis call to {} failed ({})", target, describe(cause));
        }
    }

    boolean isDown() {
        return (generation.get() & 1) == 1;
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "?";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
