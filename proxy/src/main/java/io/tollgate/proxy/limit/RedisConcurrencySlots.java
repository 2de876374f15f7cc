package io.tollgate.proxy.limit;

import io.lettuce.core.ScriptOutputType;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * Leased slots in a Redis ZSET per scope ({@link RedisScripts#SLOT_ACQUIRE}): the members are
 * holders, the scores their lease expiry, and every script drops expired members before it
 * counts, so a holder whose proxy died frees its slot after its lease without anyone's help.
 * Failure policy as in {@link RedisRateLimiter}; a release always goes to both Redis and the
 * fallback, wherever the slot was taken.
 */
public final class RedisConcurrencySlots implements ConcurrencySlots {

    private final RedisLink link;
    private final FailurePolicy policy;
    private final InProcessConcurrencySlots fallback = new InProcessConcurrencySlots();
    private final LongSupplier testClockMillis;

    RedisConcurrencySlots(RedisLink link, FailurePolicy policy) {
        this(link, policy, null);
    }

    /** @param testClockMillis when not null, sent to the scripts instead of using Redis TIME (tests only) */
    RedisConcurrencySlots(RedisLink link, FailurePolicy policy, LongSupplier testClockMillis) {
        this.link = link;
        this.policy = policy;
        this.testClockMillis = testClockMillis;
    }

    @Override
    public CompletionStage<SlotResult> acquire(String scope, String slotClass, int max, String holderId, Duration lease) {
        String[] args = withClock(Integer.toString(max), holderId, Long.toString(leaseMillis(lease)));
        return link.<List<Object>>script(RedisScripts.SLOT_ACQUIRE, ScriptOutputType.MULTI, RedisScripts.slotKey(scope, slotClass), args)
                .handle((reply, err) -> {
                    if (err == null) {
                        try {
                            int inUse = (int) RedisRateLimiter.asLong(reply, 1);
                            return RedisRateLimiter.asLong(reply, 0) == 1
                                    ? SlotResult.acquired(inUse, max)
                                    : SlotResult.refused(inUse, max, RedisRateLimiter.asLong(reply, 2));
                        } catch (RuntimeException malformed) {
                            // falls through to the policy
                        }
                    }
                    return policy == FailurePolicy.OPEN
                            ? fallback.acquireNow(scope, slotClass, max, holderId, lease)
                            : SlotResult.unavailable(max);
                });
    }

    @Override
    public CompletionStage<Boolean> renew(String scope, String slotClass, String holderId, Duration lease) {
        String[] args = withClock(holderId, Long.toString(leaseMillis(lease)));
        boolean heldLocally = fallback.renewNow(scope, slotClass, holderId, lease);
        return link.<Long>script(RedisScripts.SLOT_RENEW, ScriptOutputType.INTEGER, RedisScripts.slotKey(scope, slotClass), args)
                .handle((reply, err) -> {
                    if (err == null && reply != null) {
                        return reply == 1L || heldLocally;
                    }
                    return true; // cannot tell; the lease in Redis, if any, runs on untouched
                });
    }

    @Override
    public CompletionStage<Void> release(String scope, String slotClass, String holderId) {
        fallback.releaseNow(scope, slotClass, holderId);
        return link.<Long>execute(c -> c.zrem(RedisScripts.slotKey(scope, slotClass), holderId))
                .handle((removed, err) -> null); // if Redis is away, the lease expires there by itself
    }

    private String[] withClock(String... args) {
        if (testClockMillis == null) {
            return args;
        }
        String[] withNow = java.util.Arrays.copyOf(args, args.length + 1);
        withNow[args.length] = Long.toString(testClockMillis.getAsLong());
        return withNow;
    }

    private static long leaseMillis(Duration lease) {
        return Math.max(1, lease.toMillis());
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
