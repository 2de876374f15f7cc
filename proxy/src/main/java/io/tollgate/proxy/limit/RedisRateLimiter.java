package io.tollgate.proxy.limit;

import io.lettuce.core.ScriptOutputType;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * {@link Gcra} in Redis ({@link RedisScripts#GCRA}), so every proxy instance shares one budget
 * per key and class. While Redis cannot answer within the timeout the {@link FailurePolicy}
 * decides: OPEN asks an {@link InProcessRateLimiter}, CLOSED answers unavailable. The link's
 * circuit breaker brings the limiter back to Redis by itself.
 */
public final class RedisRateLimiter implements RateLimiter {

    private final RedisLink link;
    private final FailurePolicy policy;
    private final InProcessRateLimiter fallback = new InProcessRateLimiter();
    private final LongSupplier testClockMillis;

    RedisRateLimiter(RedisLink link, FailurePolicy policy) {
        this(link, policy, null);
    }

    /** @param testClockMillis when not null, sent to the script instead of using Redis TIME (tests only) */
    RedisRateLimiter(RedisLink link, FailurePolicy policy, LongSupplier testClockMillis) {
        this.link = link;
        this.policy = policy;
        this.testClockMillis = testClockMillis;
    }

    @Override
    public CompletionStage<Decision> acquire(String keyId, LimitClass cls, int limitPerMinute, int cost) {
        Decision upFront = Decision.upFront(limitPerMinute, cost);
        if (upFront != null) {
            return CompletableFuture.completedFuture(upFront);
        }
        return take(keyId, cls, limitPerMinute, cost, cost).thenApply(Grant::decision);
    }

    /**
     * One answer of the shared budget and how much of it this call took.
     *
     * @param decision for the request that asked
     * @param granted  requests taken from Redis, {@code cost} included: 0 when refused and when
     *                 the failure policy answered instead of Redis
     */
    record Grant(Decision decision, int granted) {
    }

    /**
     * Takes {@code cost} requests for the caller and, when they fit, up to {@code want - cost}
     * more for a {@link LeasedRateLimiter}'s pool: as many as fit now.
     */
    CompletionStage<Grant> take(String keyId, LimitClass cls, int limitPerMinute, int cost, int want) {
        String[] args = testClockMillis == null
                ? new String[] {Integer.toString(limitPerMinute), Integer.toString(cost), Integer.toString(want)}
                : new String[] {Integer.toString(limitPerMinute), Integer.toString(cost), Integer.toString(want),
                        Long.toString(testClockMillis.getAsLong())};
        return link.<List<Object>>script(RedisScripts.GCRA, ScriptOutputType.MULTI, RedisScripts.rateKey(keyId, cls), args)
                .handle((reply, err) -> {
                    if (err == null) {
                        try {
                            Decision d = Decision.fromGcra(asLong(reply, 0) == 1, limitPerMinute,
                                    asLong(reply, 1), asLong(reply, 2), asLong(reply, 3));
                            return new Grant(d, (int) asLong(reply, 4));
                        } catch (RuntimeException malformed) {
                            // falls through to the policy, like any other failure
                        }
                    }
                    return new Grant(policy == FailurePolicy.OPEN
                            ? fallback.decide(keyId, cls, limitPerMinute, cost)
                            : Decision.unavailable(limitPerMinute), 0);
                });
    }

    static long asLong(List<Object> reply, int index) {
        return ((Number) reply.get(index)).longValue();
    }

    FailurePolicy policy() {
        return policy;
    }

    /** Leaves the shared link open: {@link Limiters#close()} owns it. */
    @Override
    public void close() {
        fallback.close();
    }
}
