package io.tollgate.proxy.limit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tollgate.proxy.limit.LimiterConformanceTest.newId;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two proxy instances, each with its own {@link Limiters} (its own connection), on one Redis:
 * the limits are one limit, not one per instance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoProxiesTest {

    private RedisServer server;
    private Limiters first;
    private Limiters second;

    @BeforeAll
    void start() {
        server = RedisServer.start();
        LimiterConfig config = LimiterConfig.defaults().withRedisUrl(server.url()).withFailurePolicy(FailurePolicy.CLOSED)
                .withTimeout(Duration.ofMillis(250));
        first = Limiters.create(config);
        second = Limiters.create(config);
    }

    @AfterAll
    void stop() {
        if (first != null) {
            first.close();
        }
        if (second != null) {
            second.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void thirtyPerMinuteOverBothInstancesLetsExactlyThirtyThrough() {
        assertThat(first.shared()).isTrue();
        String key = newId();
        int limit = Limiters.limitFor("pro", null, LimitClass.GENERAL, first.config());
        long start = System.nanoTime();
        List<CompletableFuture<Decision>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Limiters proxy = i % 2 == 0 ? first : second;
            calls.add(proxy.rateLimiter().acquire(key, LimitClass.GENERAL, limit).toCompletableFuture());
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).orTimeout(10, TimeUnit.SECONDS).join();
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(tookMs).as("all 100 inside one emission interval (2 s), or a refill would be fair").isLessThan(2_000);
        assertThat(calls.stream().map(CompletableFuture::join).filter(Decision::unavailable)).isEmpty();
        assertThat(calls.stream().map(CompletableFuture::join).filter(Decision::allowed)).hasSize(30);
        assertThat(calls.stream().map(CompletableFuture::join).filter(Decision::allowed).map(Decision::remaining).distinct()).hasSize(30);
    }

    @Test
    void twoVideoSlotsPerAccountOverBothInstances() {
        String account = newId();
        List<CompletableFuture<SlotResult>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Limiters proxy = i % 2 == 0 ? first : second;
            calls.add(proxy.slots().acquire(account, ConcurrencySlots.VIDEO, 2, "task-" + i, Duration.ofMinutes(5)).toCompletableFuture());
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).orTimeout(10, TimeUnit.SECONDS).join();
        List<SlotResult> results = calls.stream().map(CompletableFuture::join).toList();
        assertThat(results).filteredOn(SlotResult::acquired).hasSize(2);
        assertThat(results).filteredOn(r -> r.outcome() == Outcome.LIMITED).hasSize(4);
        int holder = results.indexOf(results.stream().filter(SlotResult::acquired).findFirst().orElseThrow());
        // released through the other instance than the one that took it
        Limiters other = holder % 2 == 0 ? second : first;
        other.slots().release(account, ConcurrencySlots.VIDEO, "task-" + holder).toCompletableFuture().join();
        assertThat(first.slots().acquire(account, ConcurrencySlots.VIDEO, 2, "late", Duration.ofMinutes(5)).toCompletableFuture().join().acquired()).isTrue();
    }
}
