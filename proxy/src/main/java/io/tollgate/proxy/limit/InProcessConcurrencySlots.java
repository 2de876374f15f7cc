package io.tollgate.proxy.limit;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Leased concurrency slots in memory, the same rules as {@link RedisScripts#SLOT_ACQUIRE}: per
 * scope a map holder → lease expiry (ms), expired leases dropped before counting. Updates run
 * inside {@link ConcurrentHashMap#compute}, so one scope's map is only touched under its bin lock.
 */
public final class InProcessConcurrencySlots implements ConcurrencySlots {

    private final LongSupplier clockMillis;
    private final ConcurrentHashMap<String, Map<String, Long>> leases = new ConcurrentHashMap<>();

    public InProcessConcurrencySlots() {
        this(InProcessConcurrencySlots::monotonicMillis);
    }

    /** @param clockMillis a clock in milliseconds (tests pass a manual one) */
    public InProcessConcurrencySlots(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    @Override
    public CompletionStage<SlotResult> acquire(String scope, String slotClass, int max, String holderId, Duration lease) {
        return CompletableFuture.completedFuture(acquireNow(scope, slotClass, max, holderId, lease));
    }

    SlotResult acquireNow(String scope, String slotClass, int max, String holderId, Duration lease) {
        long now = clockMillis.getAsLong();
        long expiry = now + Math.max(1, lease.toMillis());
        SlotResult[] out = new SlotResult[1];
        leases.compute(RedisScripts.slotKey(scope, slotClass), (k, holders) -> {
            Map<String, Long> h = holders == null ? new HashMap<>() : holders;
            h.values().removeIf(e -> e <= now);
            if (h.containsKey(holderId) || h.size() < max) {
                h.put(holderId, expiry);
                out[0] = SlotResult.acquired(h.size(), max);
            } else {
                long oldest = h.values().stream().mapToLong(Long::longValue).min().orElse(now);
                out[0] = SlotResult.refused(h.size(), max, oldest - now);
            }
            return h.isEmpty() ? null : h;
        });
        return out[0];
    }

    @Override
    public CompletionStage<Boolean> renew(String scope, String slotClass, String holderId, Duration lease) {
        return CompletableFuture.completedFuture(renewNow(scope, slotClass, holderId, lease));
    }

    boolean renewNow(String scope, String slotClass, String holderId, Duration lease) {
        long now = clockMillis.getAsLong();
        boolean[] held = new boolean[1];
        leases.computeIfPresent(RedisScripts.slotKey(scope, slotClass), (k, h) -> {
            h.values().removeIf(e -> e <= now);
            if (h.containsKey(holderId)) {
                h.put(holderId, now + Math.max(1, lease.toMillis()));
                held[0] = true;
            }
            return h.isEmpty() ? null : h;
        });
        return held[0];
    }

    @Override
    public CompletionStage<Void> release(String scope, String slotClass, String holderId) {
        releaseNow(scope, slotClass, holderId);
        return CompletableFuture.completedFuture(null);
    }

    void releaseNow(String scope, String slotClass, String holderId) {
        leases.computeIfPresent(RedisScripts.slotKey(scope, slotClass), (k, h) -> {
            h.remove(holderId);
            return h.isEmpty() ? null : h;
        });
    }

    @Override
    public void close() {
        leases.clear();
    }

    private static long monotonicMillis() {
        return System.nanoTime() / 1_000_000L;
    }
}
