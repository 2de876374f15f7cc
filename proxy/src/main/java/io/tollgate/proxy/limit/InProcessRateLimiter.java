package io.tollgate.proxy.limit;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * {@link Gcra} in memory, for a single proxy (no {@code TOLLGATE_REDIS_URL}) and as the fail-open
 * fallback of {@link RedisRateLimiter}. Each key's TAT is updated inside
 * {@link ConcurrentHashMap#compute}, which locks only that key's bin: cheap and thread-safe.
 */
public final class InProcessRateLimiter implements RateLimiter {

    /** Every this many acquires, drop keys whose TAT has passed: they equal a fresh key. */
    private static final int SWEEP_EVERY = 4096;

    private final LongSupplier clockMicros;
    private final ConcurrentHashMap<String, Long> tats = new ConcurrentHashMap<>();
    private final AtomicInteger sinceSweep = new AtomicInteger();

    public InProcessRateLimiter() {
        this(InProcessRateLimiter::monotonicMicros);
    }

    /** @param clockMicros a clock in microseconds (tests pass a manual one) */
    public InProcessRateLimiter(LongSupplier clockMicros) {
        this.clockMicros = clockMicros;
    }

    @Override
    public CompletionStage<Decision> acquire(String keyId, LimitClass cls, int limitPerMinute, int cost) {
        return CompletableFuture.completedFuture(decide(keyId, cls, limitPerMinute, cost));
    }

    /** The synchronous core, also used by {@link RedisRateLimiter} to fail open. */
    Decision decide(String keyId, LimitClass cls, int limitPerMinute, int cost) {
        Decision upFront = Decision.upFront(limitPerMinute, cost);
        if (upFront != null) {
            return upFront;
        }
        long now = clockMicros.getAsLong();
        Gcra.Result[] out = new Gcra.Result[1];
        tats.compute(RedisScripts.rateKey(keyId, cls), (k, tat) -> {
            Gcra.Result r = Gcra.evaluate(tat, now, limitPerMinute, cost);
            out[0] = r;
            return r.allowed() ? Long.valueOf(r.newTat()) : tat;
        });
        if (sinceSweep.incrementAndGet() >= SWEEP_EVERY) {
            sinceSweep.set(0);
            tats.values().removeIf(tat -> tat <= now);
        }
        return out[0].toDecision(limitPerMinute);
    }

    /** Keys currently tracked (tests check that expired ones are dropped). */
    int trackedKeys() {
        return tats.size();
    }

    @Override
    public void close() {
        tats.clear();
    }

    private static long monotonicMicros() {
        return System.nanoTime() / 1000L;
    }
}
