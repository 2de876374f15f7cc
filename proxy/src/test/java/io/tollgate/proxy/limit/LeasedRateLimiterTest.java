package io.tollgate.proxy.limit;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.tollgate.proxy.limit.LimiterConformanceTest.T0;
import static io.tollgate.proxy.limit.LimiterConformanceTest.WAIT;
import static io.tollgate.proxy.limit.LimiterConformanceTest.newId;
import static io.tollgate.proxy.limit.LimiterConformanceTest.take;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The pool of requests a fast key takes from Redis ahead of use, against a Redis of the test's
 * own: how many script calls it saves, that it never admits what Redis did not grant (with two
 * proxies on one key), and that unused requests go away after the window. Redis and the pools
 * run on one manual clock, so the budget moves only when the test says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeasedRateLimiterTest {

    static final Duration WINDOW = Duration.ofMillis(50);
    private static final Pattern CALLS = Pattern.compile("cmdstat_eval(?:sha)?:calls=(\\d+)");

    private RedisServer redis;
    private RedisLink link;

    @BeforeAll
    void start() {
        redis = RedisServer.start();
        link = RedisLink.open(redis.url(), Duration.ofMillis(500));
    }

    @AfterAll
    void stop() {
        link.close();
        redis.close();
    }

    /** Script runs Redis has done so far (EVALSHA and EVAL). */
    long scriptCalls() {
        Matcher m = CALLS.matcher(redis.cli("INFO", "commandstats"));
        long n = 0;
        while (m.find()) {
            n += Long.parseLong(m.group(1));
        }
        return n;
    }

    RedisRateLimiter perRequest(ManualClock clock) {
        return new RedisRateLimiter(link, FailurePolicy.CLOSED, clock);
    }

    LeasedRateLimiter leased(ManualClock clock) {
        return new LeasedRateLimiter(perRequest(clock), WINDOW, () -> clock.getAsLong() * 1_000_000L);
    }

    @Test
    void capIsWhatTheLimitGrantsInOneWindow() {
        long window = WINDOW.toNanos();
        assertThat(LeasedRateLimiter.cap(300, window)).isZero();          // SPEC's max tier: a call per request
        assertThat(LeasedRateLimiter.cap(2_399, window)).isEqualTo(1);
        assertThat(LeasedRateLimiter.cap(2_400, window)).isEqualTo(2);
        assertThat(LeasedRateLimiter.cap(1_200_000, window)).isEqualTo(1_000);
        assertThat(LeasedRateLimiter.cap(Integer.MAX_VALUE, Duration.ofSeconds(1).toNanos())).isEqualTo(35_791_394);
    }

    @Test
    void aKeyOfATiersLimitAsksRedisForEveryRequest() {
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        long before = scriptCalls();
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofMillis(1));
            assertThat(take(limiter, key, LimitClass.GENERAL, 300).allowed()).isTrue();
        }
        assertThat(scriptCalls() - before).isEqualTo(40);
        assertThat(limiter.pooledKeys()).isZero();
    }

    @Test
    void aSlowKeyWithAHighLimitStillAsksForEveryRequest() {
        // 10 requests a second is half a request per 50 ms window: nothing worth taking ahead.
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        long before = scriptCalls();
        for (int i = 0; i < 20; i++) {
            clock.advance(Duration.ofMillis(100));
            assertThat(take(limiter, key, LimitClass.GENERAL, 1_200_000).allowed()).isTrue();
        }
        assertThat(scriptCalls() - before).isEqualTo(20);
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isZero();
    }

    @Test
    void aFillThatAPooledAnswerStartsWaitsForItsRunnerAndThatAnswerDoesNot() {
        ManualClock clock = new ManualClock(T0);
        ArrayDeque<Runnable> held = new ArrayDeque<>();
        LeasedRateLimiter limiter = new LeasedRateLimiter(perRequest(clock), WINDOW,
                () -> clock.getAsLong() * 1_000_000L, held::add);
        String key = newId();
        int limit = 1_200_000;
        // Two requests a millisecond make the key fast; answers that wait go to Redis themselves.
        for (int i = 0; i < 40 && held.isEmpty(); i++) {
            if (i % 2 == 0) {
                clock.advance(Duration.ofMillis(1));
            }
            assertThat(take(limiter, key, LimitClass.GENERAL, limit).allowed()).isTrue();
        }
        assertThat(held).as("a pooled answer started a fill").hasSize(1);
        int pooledBefore = limiter.pooled(key, LimitClass.GENERAL);
        long callsBefore = scriptCalls();
        // Until the runner runs it nothing goes to Redis, and the pool keeps answering.
        CompletableFuture<Decision> next = limiter.acquire(key, LimitClass.GENERAL, limit, 1).toCompletableFuture();
        assertThat(next).isCompletedWithValueMatching(Decision::allowed);
        assertThat(held).hasSize(1);                                   // one fill out at a time
        assertThat(scriptCalls()).isEqualTo(callsBefore);
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isEqualTo(pooledBefore - 1);
        held.poll().run();
        await().atMost(WAIT).until(() -> limiter.pooled(key, LimitClass.GENERAL) > pooledBefore - 1);
        assertThat(scriptCalls()).isEqualTo(callsBefore + 1);
    }

    @Test
    void afterThisTurnRunsOnTheCallingLoopOnceItsTaskIsDoneAndAtOnceOffALoop() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            List<String> order = new CopyOnWriteArrayList<>();
            group.next().submit(() -> {
                LeasedRateLimiter.afterThisTurn(() -> order.add("fill"));
                order.add("rest of the task");
            }).get(5, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> order.size() == 2);
            assertThat(order).containsExactly("rest of the task", "fill");

            order.clear();
            LeasedRateLimiter.afterThisTurn(() -> order.add("fill"));   // this test's thread is no loop
            order.add("after");
            assertThat(order).containsExactly("fill", "after");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aFastKeyIsAnsweredFromItsPoolAndRedisCountsEveryRequestTaken() {
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        int limit = 1_200_000;
        // A million taken at once first puts the TAT 50 s ahead, so Redis keeps the key (its
        // expiry runs on real time) and the count below is read as it is.
        int preloaded = 1_000_000;
        assertThat(take(perRequest(clock), key, LimitClass.GENERAL, limit, preloaded).allowed()).isTrue();
        long before = scriptCalls();
        int requests = 2_000;
        for (int i = 0; i < requests; i++) {
            if (i % 10 == 0) {
                clock.advance(Duration.ofMillis(1));    // 10,000 requests a second
            }
            Decision d = take(limiter, key, LimitClass.GENERAL, limit);
            assertThat(d.allowed()).as("request %d", i).isTrue();
            assertThat(d.remaining()).isLessThan(limit);
        }
        long calls = scriptCalls() - before;
        assertThat(calls).as("script calls for %d requests", requests).isBetween(2L, requests / 100L);

        // Redis has counted every request used plus the ones still pooled, no more, no fewer:
        // the TAT minus T0 is exactly that many emission intervals (60 s / limit = 50 us), once
        // a fill still out has landed.
        await().atMost(WAIT).untilAsserted(() -> {
            long pooled = limiter.pooled(key, LimitClass.GENERAL);
            assertThat(pooled).isBetween(1L, (long) LeasedRateLimiter.cap(limit, WINDOW.toNanos()));
            long tatMicros = Long.parseLong(redis.cli("GET", RedisScripts.rateKey(key, LimitClass.GENERAL)));
            assertThat((tatMicros - T0 * 1000) / Gcra.intervalMicros(limit)).isEqualTo(preloaded + requests + pooled);
        });
    }

    @Test
    void twoProxiesTogetherNeverAdmitMoreThanRedisGrants() throws Exception {
        // Time stands still, so the budget is what is left of the burst: exactly that many in all.
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter a = leased(clock);
        LeasedRateLimiter b = leased(clock);
        String key = newId();
        int limit = 12_000;                                       // a cap of 10 per pool
        // Half the burst taken at once puts the TAT 30 s ahead, so Redis keeps the key (its
        // expiry runs on real time, not on the test's clock).
        int left = limit - 6_000;
        assertThat(take(perRequest(clock), key, LimitClass.GENERAL, limit, limit - left).allowed()).isTrue();
        // Give both pools a demand to measure: one request each, then the clock moves 1 ms.
        take(a, key, LimitClass.GENERAL, limit);
        take(b, key, LimitClass.GENERAL, limit);
        clock.advance(Duration.ofMillis(1));
        AtomicInteger allowed = new AtomicInteger(2);
        AtomicInteger refused = new AtomicInteger();
        List<CompletableFuture<Void>> callers = new ArrayList<>();
        for (LeasedRateLimiter proxy : List.of(a, b)) {
            for (int t = 0; t < 2; t++) {
                callers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        Decision d = take(proxy, key, LimitClass.GENERAL, limit);
                        (d.allowed() ? allowed : refused).incrementAndGet();
                        if (d.limited()) {
                            assertThat(d.retryAfterSeconds()).isGreaterThanOrEqualTo(1);
                        }
                    }
                }));
            }
        }
        CompletableFuture.allOf(callers.toArray(CompletableFuture[]::new)).get();
        assertThat(allowed.get() + refused.get()).isEqualTo(8_002);
        await().atMost(WAIT).untilAsserted(() -> {
            int pooled = a.pooled(key, LimitClass.GENERAL) + b.pooled(key, LimitClass.GENERAL);
            assertThat(allowed.get() + pooled).isEqualTo(left);
            assertThat(pooled).isLessThanOrEqualTo(2 * LeasedRateLimiter.cap(limit, WINDOW.toNanos()));
        });
        Decision exact = take(perRequest(clock), key, LimitClass.GENERAL, limit);
        assertThat(exact.limited()).isTrue();
        assertThat(exact.remaining()).isZero();
    }

    @Test
    void whatAPoolHasNotUsedWithinTheWindowIsDropped() {
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        int limit = 1_200_000;
        take(limiter, key, LimitClass.GENERAL, limit);
        clock.advance(Duration.ofMillis(5));
        take(limiter, key, LimitClass.GENERAL, limit);            // 1 request in 5 ms: 10 a window
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isEqualTo(9);

        clock.advance(WINDOW.minusMillis(1));
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isEqualTo(9);
        clock.advance(Duration.ofMillis(2));
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isZero();
        long before = scriptCalls();
        assertThat(take(limiter, key, LimitClass.GENERAL, limit).allowed()).isTrue();
        assertThat(scriptCalls() - before).as("an expired pool answers nothing").isEqualTo(1);
    }

    @Test
    void aNewLimitForTheKeyDropsThePoolTakenUnderTheOldOne() {
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        take(limiter, key, LimitClass.GENERAL, 1_200_000);
        clock.advance(Duration.ofMillis(5));
        take(limiter, key, LimitClass.GENERAL, 1_200_000);
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isEqualTo(9);

        long before = scriptCalls();
        Decision d = take(limiter, key, LimitClass.GENERAL, 600_000);
        assertThat(scriptCalls() - before).as("the pool of the old limit answers nothing").isEqualTo(1);
        assertThat(d.limit()).isEqualTo(600_000);
        assertThat(limiter.pooled(key, LimitClass.GENERAL)).isLessThanOrEqualTo(LeasedRateLimiter.cap(600_000, WINDOW.toNanos()));
    }

    @Test
    void aRefusalFromRedisReachesTheCallerWithItsHeaders() {
        ManualClock clock = new ManualClock(T0);
        LeasedRateLimiter limiter = leased(clock);
        String key = newId();
        int limit = 2_400;                                          // a cap of 2
        int left = 1_200;                                           // the TAT 30 s ahead: Redis keeps it
        assertThat(take(perRequest(clock), key, LimitClass.GENERAL, limit, limit - left).allowed()).isTrue();
        int allowed = 0;
        Decision last = null;
        for (int i = 0; i < 1_500; i++) {
            last = take(limiter, key, LimitClass.GENERAL, limit);
            allowed += last.allowed() ? 1 : 0;
            if (i == 0) {
                clock.advance(Duration.ofMillis(1));
            }
        }
        int taken = allowed;
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(taken + limiter.pooled(key, LimitClass.GENERAL)).isEqualTo(left));
        assertThat(last.limited()).isTrue();
        assertThat(last.retryAfterSeconds()).isEqualTo(1);          // one interval is 25 ms
        assertThat(last.headers()).containsKeys("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                "Retry-After");
    }
}
