package io.tollgate.proxy.limit;

import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance suite against a test-owned Redis Cluster of three masters (redis-cluster://). */
class RedisClusterConformanceTest extends RedisConformanceTest<RedisCluster> {

    @Override
    RedisCluster startRedis() {
        return RedisCluster.start();
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
        for (RedisServer master : redis.masters()) {
            assertThat(Long.parseLong(master.cli("DBSIZE"))).as("keys on master %d", master.port()).isPositive();
        }
        String key = newId();
        long[] slots = Stream.of(LimitClass.values())
                .mapToLong(c -> Long.parseLong(redis.masters().get(0).cli("CLUSTER", "KEYSLOT", RedisScripts.rateKey(key, c))))
                .distinct().toArray();
        assertThat(slots).hasSize(1);
    }
}
