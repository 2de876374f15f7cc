package io.tollgate.proxy.limit;

import io.tollgate.schema.RateLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What every {@link RateLimiter} and {@link ConcurrencySlots} must do, whatever stores the state.
 * Subclasses run it against the in-process limiter, a standalone Redis and a Redis Cluster.
 * Redis fixtures are fail-closed, so a Redis problem fails these tests instead of passing them
 * through the in-process fallback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LimiterConformanceTest {

    /** Virtual epoch for the manual clock (ms); any value works, keys are fresh per test. */
    static final long T0 = 1_800_000_000_000L;
    static final Duration WAIT = Duration.ofSeconds(5);

    /** A rate limiter on {@code clock}, or on the store's own clock when {@code clock} is null. */
    abstract RateLimiter rateLimiter(ManualClock clock);

    abstract ConcurrencySlots slots(ManualClock clock);

    static String newId() {
        return "k" + UUID.randomUUID().toString().replace("-", "");
    }

    static Decision take(RateLimiter limiter, String key, LimitClass cls, int limit) {
        return take(limiter, key, cls, limit, 1);
    }

    static Decision take(RateLimiter limiter, String key, LimitClass cls, int limit, int cost) {
        return limiter.acquire(key, cls, limit, cost).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }

    static SlotResult slot(ConcurrencySlots slots, String scope, String holder, int max, Duration lease) {
        return slots.acquire(scope, ConcurrencySlots.VIDEO, max, holder, lease).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }

    static void release(ConcurrencySlots slots, String scope, String holder) {
        slots.release(scope, ConcurrencySlots.VIDEO, holder).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }

    static boolean renew(ConcurrencySlots slots, String scope, String holder, Duration lease) {
        return slots.renew(scope, ConcurrencySlots.VIDEO, holder, lease).toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }

    // ---- rate limits ----------------------------------------------------------------------

    /** One row of the redis-cell style table: at {@code atMs} take {@code cost}, expect this. */
    record Row(long atMs, int cost, boolean allowed, int remaining, long resetSeconds, long retryAfterSeconds) {
    }

    @Test
    void gcraFollowsTheTableLikeRedisCell() {
        // limit 5/min: one request per 12 s, a burst of 5. Columns: ms, cost, allowed, remaining, reset s, retry-after s.
        List<Row> table = List.of(
                new Row(0, 6, false, 5, 0, 60),       // larger than the whole burst: never fits, state untouched
                new Row(0, 1, true, 4, 0, 0),
                new Row(0, 1, true, 3, 0, 0),
                new Row(0, 1, true, 2, 0, 0),
                new Row(0, 1, true, 1, 0, 0),
                new Row(0, 1, true, 0, 12, 0),        // burst used up: the next one in 12 s
                new Row(0, 1, false, 0, 12, 12),
                new Row(3_500, 1, false, 0, 9, 9),    // 8.5 s to go, rounded up
                new Row(12_000, 1, true, 0, 12, 0),   // one interval later exactly one more
                new Row(12_000, 1, false, 0, 12, 12),
                new Row(40_000, 1, true, 1, 0, 0),    // 28 s idle earned two, this takes one
                new Row(40_000, 2, false, 1, 0, 8),   // all or nothing: 2 do not fit yet, 1 would
                new Row(40_000, 1, true, 0, 8, 0),
                new Row(200_000, 1, true, 4, 0, 0),   // idle longer than a window: a fresh burst
                new Row(200_000, 4, true, 0, 12, 0)); // cost 4 takes the rest at once
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        String key = newId();
        for (Row row : table) {
            clock.set(T0 + row.atMs());
            Decision d = take(limiter, key, LimitClass.GENERAL, 5, row.cost());
            assertThat(d).as("row %s", row).isEqualTo(new Decision(row.allowed() ? Outcome.ALLOWED : Outcome.LIMITED,
                    5, row.remaining(), row.resetSeconds(), row.retryAfterSeconds()));
        }
    }

    @Test
    void thirtyPerMinuteLetsExactlyThirtyThroughAtOnce() throws Exception {
        RateLimiter limiter = rateLimiter(null); // the store's real clock (Redis TIME)
        String key = newId();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<Decision>> calls = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> limiter.acquire(key, LimitClass.GENERAL, 30), pool)
                        .thenCompose(s -> s));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            List<Decision> allowed = calls.stream().map(CompletableFuture::join).filter(Decision::allowed).toList();
            assertThat(allowed).hasSize(30);
            Set<Integer> remaining = new HashSet<>();
            allowed.forEach(d -> remaining.add(d.remaining()));
            assertThat(remaining).as("each allowed request saw its own remaining count").hasSize(30).contains(0, 29);
            calls.stream().map(CompletableFuture::join).filter(d -> !d.allowed()).forEach(d -> {
                assertThat(d.limited()).isTrue();
                assertThat(d.limit()).isEqualTo(30);
                assertThat(d.remaining()).isZero();
                assertThat(d.retryAfterSeconds()).isBetween(1L, 2L);
                assertThat(d.resetSeconds()).isBetween(1L, 2L);
            });
        } finally {
            pool.shutdownNow();
        }
        Decision next = take(limiter, key, LimitClass.GENERAL, 30);
        assertThat(next.limited()).isTrue();
        assertThat(next.retryAfterSeconds()).isBetween(1L, 2L);
    }

    @Test
    void refusedRequestPassesOnceItsRetryAfterHasElapsed() {
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        String key = newId();
        for (int i = 0; i < 30; i++) {
            assertThat(take(limiter, key, LimitClass.GENERAL, 30).allowed()).isTrue();
        }
        Decision refused = take(limiter, key, LimitClass.GENERAL, 30);
        assertThat(refused.limited()).isTrue();
        assertThat(refused.retryAfterSeconds()).isEqualTo(2);
        clock.advance(Duration.ofMillis(1_999));
        Decision almost = take(limiter, key, LimitClass.GENERAL, 30);
        assertThat(almost.limited()).isTrue();
        assertThat(almost.retryAfterSeconds()).isEqualTo(1); // 1 ms, rounded up to a whole second
        clock.advance(Duration.ofMillis(1));
        assertThat(take(limiter, key, LimitClass.GENERAL, 30).allowed()).isTrue();
        assertThat(take(limiter, key, LimitClass.GENERAL, 30).limited()).isTrue();
    }

    @Test
    void noDoubleBurstAcrossAWindowEdge() {
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        String key = newId();
        // A fixed window [0, 60 s) would allow 30 at 59.9 s and 30 more at 60.1 s.
        clock.set(T0 + 59_900);
        int before = 0;
        for (int i = 0; i < 30; i++) {
            before += take(limiter, key, LimitClass.GENERAL, 30).allowed() ? 1 : 0;
        }
        clock.set(T0 + 60_100);
        int after = 0;
        for (int i = 0; i < 30; i++) {
            after += take(limiter, key, LimitClass.GENERAL, 30).allowed() ? 1 : 0;
        }
        assertThat(before).isEqualTo(30);
        assertThat(after).as("200 ms after the burst no budget has refilled").isZero();
    }

    @Test
    void steadyHammeringGetsTheConfiguredRateAndNoMore() {
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        String key = newId();
        int allowed = 0;
        int firstMinute = 0;
        for (int t = 0; t < 600_000; t += 250) { // 4 requests a second for ten minutes
            clock.set(T0 + t);
            if (take(limiter, key, LimitClass.GENERAL, 30).allowed()) {
                allowed++;
                if (t < 60_000) {
                    firstMinute++;
                }
            }
        }
        // The burst of 30, then one every 2 s: about 30 + 300 over ten minutes and never a second
        // burst. GCRA's known trait: a fresh key's first minute holds its burst plus the refill
        // earned meanwhile (< 2x); every later minute holds exactly the limit.
        assertThat(allowed).isBetween(329, 330);
        assertThat(firstMinute).isBetween(30 + 29, 30 + 30);
    }

    @Test
    void keysAndClassesHaveSeparateBudgets() {
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        String a = newId();
        String b = newId();
        for (int i = 0; i < 3; i++) {
            assertThat(take(limiter, a, LimitClass.GENERAL, 3).allowed()).isTrue();
        }
        assertThat(take(limiter, a, LimitClass.GENERAL, 3).limited()).isTrue();
        assertThat(take(limiter, a, LimitClass.IMAGE_SUBMIT, 3).allowed()).isTrue();
        assertThat(take(limiter, a, LimitClass.IMAGE_POLL, 3).allowed()).isTrue();
        Decision other = take(limiter, b, LimitClass.GENERAL, 3);
        assertThat(other.allowed()).isTrue();
        assertThat(other.remaining()).isEqualTo(2);
    }

    @Test
    void aKeysOwnOverrideReplacesItsTierLimit() {
        ManualClock clock = new ManualClock(T0);
        RateLimiter limiter = rateLimiter(clock);
        LimiterConfig config = LimiterConfig.defaults();
        String overridden = newId();
        String plain = newId();
        int own = Limiters.limitFor("pro", new RateLimits(5, null, null), LimitClass.GENERAL, config);
        int tier = Limiters.limitFor("pro", RateLimits.NONE, LimitClass.GENERAL, config);
        assertThat(own).isEqualTo(5);
        assertThat(tier).isEqualTo(30);
        assertThat(countAllowed(limiter, overridden, own, 40)).isEqualTo(5);
        assertThat(countAllowed(limiter, plain, tier, 40)).isEqualTo(30);
        Decision d = take(limiter, overridden, LimitClass.GENERAL, own);
        assertThat(d.limit()).isEqualTo(5);
        assertThat(d.retryAfterSeconds()).isEqualTo(12);
    }

    @Test
    void aZeroLimitRefusesEverything() {
        RateLimiter limiter = rateLimiter(new ManualClock(T0));
        Decision d = take(limiter, newId(), LimitClass.IMAGE_SUBMIT, 0);
        assertThat(d.limited()).isTrue();
        assertThat(d.retryAfterSeconds()).isPositive();
    }

    private static int countAllowed(RateLimiter limiter, String key, int limit, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            n += take(limiter, key, LimitClass.GENERAL, limit).allowed() ? 1 : 0;
        }
        return n;
    }

    // ---- concurrency slots ----------------------------------------------------------------

    @Test
    void aThirdVideoTaskIsRefusedUntilOneIsReleased() {
        ConcurrencySlots slots = slots(null);
        String account = newId();
        Duration lease = Duration.ofMinutes(10);
        assertThat(slot(slots, account, "task-1", 2, lease)).isEqualTo(new SlotResult(Outcome.ALLOWED, 1, 2, 0));
        assertThat(slot(slots, account, "task-2", 2, lease)).isEqualTo(new SlotResult(Outcome.ALLOWED, 2, 2, 0));
        SlotResult third = slot(slots, account, "task-3", 2, lease);
        assertThat(third.outcome()).isEqualTo(Outcome.LIMITED);
        assertThat(third.inUse()).isEqualTo(2);
        assertThat(third.retryAfterSeconds()).isBetween(1L, lease.toSeconds());
        release(slots, account, "task-1");
        assertThat(slot(slots, account, "task-3", 2, lease).acquired()).isTrue();
        assertThat(slot(slots, account, "task-4", 2, lease).acquired()).isFalse();
    }

    @Test
    void anExpiredLeaseFreesItsSlotWithoutARelease() {
        ManualClock clock = new ManualClock(T0);
        ConcurrencySlots slots = slots(clock);
        String account = newId();
        assertThat(slot(slots, account, "dead-proxy-task", 2, Duration.ofSeconds(30)).acquired()).isTrue();
        clock.advance(Duration.ofSeconds(10));
        assertThat(slot(slots, account, "live-task", 2, Duration.ofSeconds(30)).acquired()).isTrue();
        SlotResult refused = slot(slots, account, "new-task", 2, Duration.ofSeconds(30));
        assertThat(refused.acquired()).isFalse();
        assertThat(refused.retryAfterSeconds()).isEqualTo(20); // the oldest lease ends in 20 s
        clock.advance(Duration.ofSeconds(20));
        SlotResult freed = slot(slots, account, "new-task", 2, Duration.ofSeconds(30));
        assertThat(freed.acquired()).isTrue();
        assertThat(freed.inUse()).isEqualTo(2);
    }

    @Test
    void leasesRunOutOnTheStoresOwnClock() {
        ConcurrencySlots slots = slots(null);
        String account = newId();
        assertThat(slot(slots, account, "a", 2, Duration.ofMillis(300)).acquired()).isTrue();
        assertThat(slot(slots, account, "b", 2, Duration.ofMillis(300)).acquired()).isTrue();
        assertThat(slot(slots, account, "c", 2, Duration.ofMinutes(1)).acquired()).isFalse();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> slot(slots, account, "c", 2, Duration.ofMinutes(1)).acquired());
    }

    @Test
    void renewKeepsALongTasksSlotPastItsFirstLease() {
        ManualClock clock = new ManualClock(T0);
        ConcurrencySlots slots = slots(clock);
        String account = newId();
        assertThat(slot(slots, account, "long", 1, Duration.ofSeconds(30)).acquired()).isTrue();
        clock.advance(Duration.ofSeconds(25));
        assertThat(renew(slots, account, "long", Duration.ofSeconds(30))).isTrue();
        clock.advance(Duration.ofSeconds(25)); // 50 s after the acquire, 25 s into the renewed lease
        assertThat(slot(slots, account, "other", 1, Duration.ofSeconds(30)).acquired()).isFalse();
        clock.advance(Duration.ofSeconds(6));
        assertThat(renew(slots, account, "long", Duration.ofSeconds(30))).as("lease ran out").isFalse();
        assertThat(slot(slots, account, "other", 1, Duration.ofSeconds(30)).acquired()).isTrue();
    }

    @Test
    void acquiringTwiceWithTheSameHolderTakesOneSlot() {
        ConcurrencySlots slots = slots(null);
        String account = newId();
        assertThat(slot(slots, account, "retry-me", 2, Duration.ofMinutes(1)).inUse()).isEqualTo(1);
        assertThat(slot(slots, account, "retry-me", 2, Duration.ofMinutes(1)).inUse()).isEqualTo(1);
        assertThat(slot(slots, account, "second", 2, Duration.ofMinutes(1)).acquired()).isTrue();
        assertThat(slot(slots, account, "retry-me", 2, Duration.ofMinutes(1)).acquired()).as("a holder keeps its slot at the max").isTrue();
    }

    @Test
    void accountsAndSlotClassesAreSeparate() {
        ConcurrencySlots slots = slots(null);
        String a = newId();
        String b = newId();
        assertThat(slot(slots, a, "t1", 1, Duration.ofMinutes(1)).acquired()).isTrue();
        assertThat(slot(slots, a, "t2", 1, Duration.ofMinutes(1)).acquired()).isFalse();
        assertThat(slot(slots, b, "t2", 1, Duration.ofMinutes(1)).acquired()).isTrue();
        assertThat(slots.acquire(a, "other-class", 1, "t2", Duration.ofMinutes(1)).toCompletableFuture().join().acquired()).isTrue();
        release(slots, a, "never-held"); // harmless
        assertThat(slot(slots, a, "t2", 1, Duration.ofMinutes(1)).acquired()).isFalse();
    }
}
