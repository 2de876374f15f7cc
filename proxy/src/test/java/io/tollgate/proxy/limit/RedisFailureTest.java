package io.tollgate.proxy.limit;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.ScriptOutputType;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.tollgate.proxy.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static io.tollgate.proxy.limit.LimiterConformanceTest.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redis dies (SIGKILL), hangs (SIGSTOP) or forgets its scripts (SCRIPT FLUSH) under a limiter
 * with the default 50 ms timeout: every acquire still completes within the timeout plus some
 * scheduling slack, the failure policy answers meanwhile, and the limiter goes back to Redis by
 * itself, which the tests prove by finding a fresh key in Redis with redis-cli.
 */
class RedisFailureTest {

    private static final Logger log = LoggerFactory.getLogger(RedisFailureTest.class);

    static final Duration TIMEOUT = LimiterConfig.DEFAULT_TIMEOUT;
    /** What a caller may wait at most: the timeout plus slack for a busy CI machine. */
    static final Duration BUDGET = TIMEOUT.plusMillis(150);
    static final Duration RECOVERY = Duration.ofSeconds(15);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private RedisServer server() {
        RedisServer server = RedisServer.start();
        toClose.add(server);
        return server;
    }

    private RedisLink link(String url) {
        RedisLink link = RedisLink.open(url, TIMEOUT);
        toClose.add(link);
        return link;
    }

    /** One acquire that must complete within {@link #BUDGET}, or the test fails. */
    static Decision within(RateLimiter limiter, String key, int limit) {
        return limiter.acquire(key, LimitClass.GENERAL, limit).toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** True once a request was decided in Redis: its key exists there. */
    static boolean servedByRedis(RateLimiter limiter, RedisServer server) {
        String key = newId();
        Decision d = within(limiter, key, 30);
        return d.allowed() && "1".equals(server.cli("EXISTS", RedisScripts.rateKey(key, LimitClass.GENERAL)));
    }

    @Test
    void failOpenKeepsAnsweringWhenRedisIsKilledAndReturnsToItAfterARestart() throws Exception {
        RedisServer server = server();
        RedisLink link = link(server.url());
        RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.OPEN);
        assertThat(servedByRedis(limiter, server)).isTrue();

        try (LoadGenerator load = new LoadGenerator(limiter, 8)) {
            await().atMost(RECOVERY).until(() -> load.completed() >= 500);
            assertThat(Long.parseLong(server.cli("DBSIZE"))).as("the load went to Redis").isPositive();

            server.kill();
            int atKill = load.completed();
            await().atMost(RECOVERY).until(() -> load.completed() >= atKill + 2_000);
            assertThat(link.isDown()).isTrue();

            server.restart(); // same port, empty: no keys and no scripts
            await().atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> servedByRedis(limiter, server));
            assertThat(link.isDown()).isFalse();
            int atReturn = load.completed();
            await().atMost(RECOVERY).until(() -> load.completed() >= atReturn + 500);
            load.close();
            log.info("kill/restart under load: {} acquires, slowest {} ms", load.completed(), load.maxMillis());

            assertThat(load.errors()).isEmpty();
            assertThat(load.unavailable()).isZero();
            assertThat(load.allowed()).isEqualTo(load.completed());
            assertThat(load.maxMillis()).as("slowest acquire, ms").isLessThanOrEqualTo(BUDGET.toMillis());
        }
    }

    /**
     * The timeout is the configured one, not the next tick of a coarse timer wheel: Lettuce's own
     * ticks every 100 ms, which failed a 50 ms call 50 to 150 ms after it was sent. Four calls a
     * quarter of such a tick apart fall at four phases of it, so on that wheel one of them waits
     * at least three quarters of a tick past its deadline.
     */
    @Test
    void aCallToAFrozenRedisFailsAtItsTimeoutNotAtATimerTickLater() throws Exception {
        RedisServer server = server();
        RedisLink link = link(server.url());
        assertThat(link.execute(c -> c.ping()).get(5, TimeUnit.SECONDS)).isEqualTo("PONG");
        ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
        toClose.add(sender::shutdownNow);
        server.freeze();
        try {
            List<CompletableFuture<Long>> failedAfter = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                CompletableFuture<Long> millis = new CompletableFuture<>();
                sender.schedule(() -> {
                    long sent = System.nanoTime();
                    link.execute(c -> c.ping()).whenComplete((v, e) -> {
                        if (e instanceof RedisCommandTimeoutException) {
                            millis.complete((System.nanoTime() - sent) / 1_000_000);
                        } else {
                            millis.completeExceptionally(new AssertionError("not a timeout: " + (e == null ? v : e)));
                        }
                    });
                }, i * 25L, TimeUnit.MILLISECONDS);
                failedAfter.add(millis);
            }
            for (CompletableFuture<Long> millis : failedAfter) {
                assertThat(millis.get(5, TimeUnit.SECONDS)).as("ms from the send to the timeout")
                        .isBetween(TIMEOUT.toMillis() - 1, TIMEOUT.toMillis() + 45);
            }
        } finally {
            server.thaw();
        }
    }

    /**
     * A fresh JVM's first young collections took 40-70 ms in the bench, past the 50 ms timeout,
     * and the calls they held up opened the circuit although Redis had answered at once. Here the
     * Redis connection's own loop collects a heap of a few million objects and then stays busy
     * past the timeout, so that three calls time out with this JVM standing still for most of
     * them: they fail, but Redis is not called down for it.
     */
    @Test
    void callsThatTimeOutAcrossACollectionPauseOfThisJvmDoNotCallRedisDown() throws Exception {
        RedisServer server = server();
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, Transport.auto().ioHandlerFactory());
        toClose.add(() -> loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        RedisLink link = RedisLink.open(server.url(), TIMEOUT, loops);
        toClose.add(link);
        assertThat(link.execute(c -> c.ping()).get(5, TimeUnit.SECONDS)).isEqualTo("PONG");

        Object[] live = new Object[3_000_000];
        for (int i = 0; i < live.length; i++) {
            live[i] = new long[]{i};
        }
        long pausedBefore = JvmPauses.millis();
        // The loop is held first, so the calls cannot be written or answered before the pause.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch sent = new CountDownLatch(1);
        var held = loops.next().submit(() -> {
            holding.countDown();
            sent.await(5, TimeUnit.SECONDS);
            System.gc();
            long until = System.nanoTime() + 2 * TIMEOUT.toNanos();
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            return null;
        });
        assertThat(holding.await(5, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < RedisLink.FAILURES_TO_OPEN; i++) {
            calls.add(link.execute(c -> c.ping()));
        }
        sent.countDown();
        held.get(10, TimeUnit.SECONDS);
        assertThat(live[live.length - 1]).isNotNull();
        assertThat(JvmPauses.millis() - pausedBefore).as("ms of collection pauses")
                .isGreaterThanOrEqualTo(TIMEOUT.toMillis() / 2);

        for (CompletableFuture<String> call : calls) {
            assertThat(call).failsWithin(Duration.ofSeconds(5))
                    .withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(RedisCommandTimeoutException.class);
        }
        assertThat(link.isDown()).isFalse();
        assertThat(link.execute(c -> c.ping()).get(5, TimeUnit.SECONDS)).isEqualTo("PONG");
    }

    @Test
    void failOpenAnswersWithinTheTimeoutWhileRedisIsFrozen() throws Exception {
        RedisServer server = server();
        RedisLink link = link(server.url());
        RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.OPEN);
        assertThat(servedByRedis(limiter, server)).isTrue();

        try (LoadGenerator load = new LoadGenerator(limiter, 8)) {
            await().atMost(RECOVERY).until(() -> load.completed() >= 500);
            server.freeze();
            try {
                int atFreeze = load.completed();
                // A burst on top of the load, each call bounded by the budget (orTimeout fails the join otherwise).
                List<CompletableFuture<Decision>> burst = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    burst.add(limiter.acquire(newId(), LimitClass.GENERAL, 30).toCompletableFuture()
                            .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS));
                }
                burst.forEach(f -> assertThat(f.join().allowed()).isTrue());
                for (int i = 0; i < 20; i++) {
                    assertThat(within(limiter, newId(), 30).allowed()).isTrue();
                }
                await().atMost(RECOVERY).until(() -> load.completed() >= atFreeze + 2_000);
                assertThat(link.isDown()).isTrue();
            } finally {
                server.thaw();
            }
            await().atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> servedByRedis(limiter, server));
            load.close();
            log.info("freeze/thaw under load: {} acquires, slowest {} ms", load.completed(), load.maxMillis());
            assertThat(load.errors()).isEmpty();
            assertThat(load.unavailable()).isZero();
            assertThat(load.maxMillis()).as("slowest acquire, ms").isLessThanOrEqualTo(BUDGET.toMillis());
        }
    }

    @Test
    void failClosedAnswersUnavailableWhileRedisIsKilledOrFrozen() {
        RedisServer server = server();
        RedisLink link = link(server.url());
        RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.CLOSED);
        RedisConcurrencySlots slots = new RedisConcurrencySlots(link, FailurePolicy.CLOSED);
        assertThat(servedByRedis(limiter, server)).isTrue();

        server.kill();
        for (int i = 0; i < 20; i++) {
            assertThat(within(limiter, newId(), 30).unavailable()).isTrue();
        }
        assertThat(slots.acquire(newId(), ConcurrencySlots.VIDEO, 2, "t", Duration.ofMinutes(1)).toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join().unavailable()).isTrue();

        server.restart();
        await().atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> servedByRedis(limiter, server));

        server.freeze();
        try {
            for (int i = 0; i < 20; i++) {
                assertThat(within(limiter, newId(), 30).unavailable()).isTrue();
            }
        } finally {
            server.thaw();
        }
        await().atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> servedByRedis(limiter, server));
    }

    @Test
    void scriptFlushOnlyCostsOneEvalPerScript() {
        RedisServer server = server();
        RedisLink link = link(server.url());
        RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.CLOSED);
        RedisConcurrencySlots slots = new RedisConcurrencySlots(link, FailurePolicy.CLOSED);
        String key = newId();
        String account = newId();

        assertThat(within(limiter, key, 30).remaining()).isEqualTo(29);
        assertThat(slots.acquire(account, ConcurrencySlots.VIDEO, 2, "a", Duration.ofMinutes(1)).toCompletableFuture().join().acquired()).isTrue();
        assertThat(server.cli("SCRIPT", "EXISTS", RedisScripts.GCRA.sha())).isEqualTo("1");

        server.cli("SCRIPT", "FLUSH");
        assertThat(server.cli("SCRIPT", "EXISTS", RedisScripts.GCRA.sha())).isEqualTo("0");
        Decision next = within(limiter, key, 30);
        assertThat(next.allowed()).isTrue();
        assertThat(next.remaining()).as("the same Redis state, not a fallback").isEqualTo(28);
        assertThat(server.cli("SCRIPT", "EXISTS", RedisScripts.GCRA.sha())).as("EVAL cached it again").isEqualTo("1");
        SlotResult second = slots.acquire(account, ConcurrencySlots.VIDEO, 2, "b", Duration.ofMinutes(1)).toCompletableFuture().join();
        assertThat(second).isEqualTo(new SlotResult(Outcome.ALLOWED, 2, 2, 0));
        assertThat(slots.renew(account, ConcurrencySlots.VIDEO, "a", Duration.ofMinutes(1)).toCompletableFuture().join()).isTrue();

        server.cli("SCRIPT", "FLUSH");
        assertThat(link.<Long>script(RedisScripts.SLOT_RENEW, ScriptOutputType.INTEGER,
                RedisScripts.slotKey(account, ConcurrencySlots.VIDEO), "b", "60000").join()).isEqualTo(1L);
    }

    @Test
    void startsBeforeItsRedisAndUsesItOnceItIsUp() {
        int port = RedisServer.freePort();
        RedisLink link = link("redis://127.0.0.1:" + port);
        RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.OPEN);
        assertThat(within(limiter, newId(), 30).allowed()).as("fail-open with no Redis at all").isTrue();

        RedisServer server = RedisServer.start(port);
        toClose.add(server);
        await().atMost(RECOVERY).pollInterval(Duration.ofMillis(50)).until(() -> servedByRedis(limiter, server));
    }

    @Test
    void failOpenSlotsFallBackAndReleaseEverywhere() {
        RedisServer server = server();
        RedisLink link = link(server.url());
        RedisConcurrencySlots slots = new RedisConcurrencySlots(link, FailurePolicy.OPEN);
        String account = newId();
        assertThat(slots.acquire(account, ConcurrencySlots.VIDEO, 1, "in-redis", Duration.ofMinutes(1)).toCompletableFuture().join().acquired()).isTrue();

        server.kill();
        SlotResult local = slots.acquire(account, ConcurrencySlots.VIDEO, 1, "local", Duration.ofMinutes(1)).toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join();
        assertThat(local.acquired()).as("the in-process fallback has its own, empty, slots").isTrue();
        assertThat(slots.acquire(account, ConcurrencySlots.VIDEO, 1, "local-2", Duration.ofMinutes(1)).toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join().acquired()).isFalse();
        slots.release(account, ConcurrencySlots.VIDEO, "local").toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join();
        assertThat(slots.acquire(account, ConcurrencySlots.VIDEO, 1, "local-2", Duration.ofMinutes(1)).toCompletableFuture()
                .orTimeout(BUDGET.toMillis(), TimeUnit.MILLISECONDS).join().acquired()).isTrue();
    }
}
