package io.tollgate.proxy.limit;

import io.lettuce.core.RedisURI;
import io.tollgate.schema.RateLimits;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LimiterConfigTest {

    private final LimiterConfig defaults = LimiterConfig.defaults();

    @Test
    void defaultsAreTheSpecsTable() {
        assertThat(defaults.redisUrl()).isNull();
        assertThat(defaults.timeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(defaults.failurePolicy()).isEqualTo(FailurePolicy.OPEN);
        assertThat(defaults.tiers().get("pro")).isEqualTo(Map.of(LimitClass.GENERAL, 30, LimitClass.IMAGE_SUBMIT, 200, LimitClass.IMAGE_POLL, 1000));
        assertThat(defaults.tiers().get("max")).isEqualTo(Map.of(LimitClass.GENERAL, 300, LimitClass.IMAGE_SUBMIT, 300, LimitClass.IMAGE_POLL, 1500));
    }

    @Test
    void aKeysOverrideWinsPerClassAndTheTierFillsTheRest() {
        RateLimits own = new RateLimits(null, 7, null);
        assertThat(Limiters.limitFor("max", own, LimitClass.IMAGE_SUBMIT, defaults)).isEqualTo(7);
        assertThat(Limiters.limitFor("max", own, LimitClass.GENERAL, defaults)).isEqualTo(300);
        assertThat(Limiters.limitFor("max", own, LimitClass.IMAGE_POLL, defaults)).isEqualTo(1500);
        assertThat(Limiters.limitFor("pro", null, LimitClass.IMAGE_POLL, defaults)).isEqualTo(1000);
        assertThat(Limiters.limitFor("pro", RateLimits.NONE, LimitClass.GENERAL, defaults)).isEqualTo(30);
    }

    @Test
    void configuredTiersMergeOverTheDefaults() {
        LimiterConfig config = new LimiterConfig(null, null, null, Map.of(
                "max", Map.of(LimitClass.GENERAL, 600),
                "team", Map.of(LimitClass.GENERAL, 120, LimitClass.IMAGE_POLL, 5000)));
        assertThat(config.limitFor("max", RateLimits.NONE, LimitClass.GENERAL)).isEqualTo(600);
        assertThat(config.limitFor("max", RateLimits.NONE, LimitClass.IMAGE_POLL)).isEqualTo(1500);
        assertThat(config.limitFor("team", RateLimits.NONE, LimitClass.GENERAL)).isEqualTo(120);
        assertThat(config.limitFor("team", RateLimits.NONE, LimitClass.IMAGE_SUBMIT)).as("from the default tier").isEqualTo(200);
        assertThat(config.limitFor("pro", RateLimits.NONE, LimitClass.GENERAL)).isEqualTo(30);
        assertThat(config.limitFor("no-such-tier", RateLimits.NONE, LimitClass.GENERAL)).as("unknown tier: pro").isEqualTo(30);
        assertThat(config.failurePolicy()).isEqualTo(FailurePolicy.OPEN);
        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(50));
        assertThatThrownBy(() -> new LimiterConfig(null, null, null, Map.of("x", Map.of(LimitClass.GENERAL, -1))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void redisUrlsStandaloneAndCluster() {
        assertThat(RedisLink.parse("redis://10.0.0.1:6380/2")).singleElement()
                .satisfies(u -> {
                    assertThat(u.getHost()).isEqualTo("10.0.0.1");
                    assertThat(u.getPort()).isEqualTo(6380);
                    assertThat(u.getDatabase()).isEqualTo(2);
                });
        List<RedisURI> seeds = RedisLink.parse("redis-cluster://:secret@a:7000, b:7001,c:7002");
        assertThat(seeds).extracting(RedisURI::getHost).containsExactly("a", "b", "c");
        assertThat(seeds).extracting(RedisURI::getPort).containsExactly(7000, 7001, 7002);
        assertThat(new String(seeds.get(1).getCredentialsProvider().resolveCredentials().block().getPassword())).isEqualTo("secret");
        assertThat(RedisLink.isCluster("REDIS-CLUSTER://a:1")).isTrue();
        assertThat(RedisLink.redacted("redis-cluster://:secret@a:7000")).doesNotContain("secret");
        assertThatThrownBy(() -> defaults.withRedisUrl("redis-cluster://")).isInstanceOf(IllegalArgumentException.class);
        assertThat(defaults.withRedisUrl(" ").redisUrl()).isNull();
    }

    @Test
    void noRedisUrlMeansTheInProcessPair() {
        try (Limiters limiters = Limiters.create(defaults)) {
            assertThat(limiters.shared()).isFalse();
            assertThat(limiters.rateLimiter()).isInstanceOf(InProcessRateLimiter.class);
            assertThat(limiters.slots()).isInstanceOf(InProcessConcurrencySlots.class);
            assertThat(limiters.rateLimiter().acquire("k", LimitClass.GENERAL, 30).toCompletableFuture().join().remaining()).isEqualTo(29);
        }
    }

    @Test
    void aRedisUrlLeasesUnlessTheWindowIsZero() {
        try (RedisServer redis = RedisServer.start()) {
            try (Limiters leased = Limiters.create(defaults.withRedisUrl(redis.url()))) {
                assertThat(leased.shared()).isTrue();
                assertThat(leased.rateLimiter()).isInstanceOf(LeasedRateLimiter.class);
                assertThat(leased.rateLimiter().acquire("k", LimitClass.GENERAL, 30).toCompletableFuture().join().remaining())
                        .isEqualTo(29);
            }
            try (Limiters perRequest = Limiters.create(defaults.withRedisUrl(redis.url()).withLeaseWindow(Duration.ZERO))) {
                assertThat(perRequest.rateLimiter()).isInstanceOf(RedisRateLimiter.class);
            }
        }
        assertThatThrownBy(() -> defaults.withLeaseWindow(Duration.ofMillis(1001))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> defaults.withLeaseWindow(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
