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
        if (cost < 1) {
            throw new IllegalArgumentException("cost must be at least 1");
        }
        if (limitPerMinute < 1) {
            return CompletableFuture.completedFuture(Decision.blocked(limitPerMinute));
        }
        String[] args = testClockMillis == null
                ? new String[] {Integer.toString(limitPerMinute), Integer.toString(cost)}
                : new String[] {Integer.toString(limitPerMinute), Integer.toString(cost), Long.toString(testClockMillis.getAsLong())};
        return link.<List<Object>>script(RedisScripts.GCRA, ScriptOutputType.MULTI, RedisScripts.rateKey(keyId, cls), args)
                .handle((reply, err) -> {
                    if (err == null) {
                        try {
                            return Decision.fromGcra(asLong(reply, 0) == 1, limitPerMinute,
                                    asLong(reply, 1), asLong(reply, 2), asLong(reply, 3));
                        } catch (RuntimeException malformed) {
                            // falls through to the policy, like any other failure
                        }
                    }
                    return policy == FailurePolicy.OPEN
                            ? fallback.decide(keyId, cls, limitPerMinute, cost)
                            : Decision.unavailable(limitPerMinute);
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
