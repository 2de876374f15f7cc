package io.tollgate.proxy.limit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance suite against a test-owned Redis Cluster of three masters (redis-cluster://). */
class RedisClusterConformanceTest extends LimiterConformanceTest {

    private RedisCluster cluster;
    private RedisLink link;

    @BeforeAll
    void startCluster() {
        cluster = RedisCluster.start();
        link = RedisLink.open(cluster.url(), Duration.ofMillis(250));
    }

    @AfterAll
    void stopCluster() {
        if (link != null) {
            link.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    RateLimiter rateLimiter(ManualClock clock) {
        return new RedisRateLimiter(link, FailurePolicy.CLOSED, clock);
    }

    @Override
    ConcurrencySlots slots(ManualClock clock) {
        return new RedisConcurrencySlots(link, FailurePolicy.CLOSED, clock);
    }

    @Test
    void keysSpreadOverEveryMasterAndAKeysClassesShareOneSlot() {
        RateLimiter limiter = rateLimiter(null);
        for (int i = 0; i < 60; i++) {
            String key = newId();
            for (LimitClass cls : LimitClass.values()) {
                assertThat(take(limiter, key, cls, 30).allowed()).isTrue();
            }
        }
        for (RedisServer master : cluster.masters()) {
            assertThat(Long.parseLong(master.cli("DBSIZE"))).as("keys on master %d", master.port()).isPositive();
        }
        String key = newId();
        long[] slots = Stream.of(LimitClass.values())
                .mapToLong(c -> Long.parseLong(cluster.masters().get(0).cli("CLUSTER", "KEYSLOT", RedisScripts.rateKey(key, c))))
                .distinct().toArray();
        assertThat(slots).hasSize(1);
    }
}
