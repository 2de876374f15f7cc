package io.tollgate.proxy.limit;

import io.tollgate.schema.RateLimits;

import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How limits are enforced, built once at start-up.
 *
 * @param redisUrl      {@code redis://…} or {@code redis-cluster://host:port,…} ({@code TOLLGATE_REDIS_URL});
 *                      null: the in-process limiter (a single proxy only)
 * @param timeout       hard deadline of one Redis call (default 50 ms)
 * @param failurePolicy what to answer while Redis is unreachable (default {@link FailurePolicy#OPEN})
 * @param tiers         requests per minute per tier and class. Merged over the defaults: pro and max
 *                      keep SPEC's numbers unless given, and a class a tier leaves out takes the
 *                      default tier's (for a new tier) or its own default (for pro and max)
 * @param leaseWindow   with Redis: how far ahead a fast key's requests are taken in one call
 *                      ({@link LeasedRateLimiter}; default 50 ms, at most 1 s); zero: one Redis
 *                      call for every request
 */
public record LimiterConfig(String redisUrl, Duration timeout, FailurePolicy failurePolicy,
                            Map<String, Map<LimitClass, Integer>> tiers, Duration leaseWindow) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
    public static final Duration DEFAULT_LEASE_WINDOW = Duration.ofMillis(50);
    public static final Duration MAX_LEASE_WINDOW = Duration.ofSeconds(1);
    /** The tier whose limits apply to a tier name the config does not know. */
    public static final String DEFAULT_TIER = "pro";
    public static final Map<String, Map<LimitClass, Integer>> DEFAULT_TIERS = Map.of(
            "pro", Map.of(LimitClass.GENERAL, 30, LimitClass.IMAGE_SUBMIT, 200, LimitClass.IMAGE_POLL, 1000),
            "max", Map.of(LimitClass.GENERAL, 300, LimitClass.IMAGE_SUBMIT, 300, LimitClass.IMAGE_POLL, 1500));

    public LimiterConfig {
        if (redisUrl != null && redisUrl.isBlank()) {
            redisUrl = null;
        }
        if (redisUrl != null) {
            RedisLink.parse(redisUrl); // fail at start-up, not on the first request
        }
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("limiter timeout must be positive: " + timeout);
        }
        failurePolicy = failurePolicy == null ? FailurePolicy.OPEN : failurePolicy;
        tiers = merge(tiers);
        leaseWindow = leaseWindow == null ? DEFAULT_LEASE_WINDOW : leaseWindow;
        if (leaseWindow.isNegative() || leaseWindow.compareTo(MAX_LEASE_WINDOW) > 0) {
            throw new IllegalArgumentException("lease window must be between 0 and 1 s: " + leaseWindow);
        }
    }

    /** With the default lease window. */
    public LimiterConfig(String redisUrl, Duration timeout, FailurePolicy failurePolicy,
                         Map<String, Map<LimitClass, Integer>> tiers) {
        this(redisUrl, timeout, failurePolicy, tiers, DEFAULT_LEASE_WINDOW);
    }

    /** In-process limits, default timeout, fail-open, default tiers. */
    public static LimiterConfig defaults() {
        return new LimiterConfig(null, DEFAULT_TIMEOUT, FailurePolicy.OPEN, Map.of());
    }

    public LimiterConfig withRedisUrl(String url) {
        return new LimiterConfig(url, timeout, failurePolicy, tiers, leaseWindow);
    }

    public LimiterConfig withTimeout(Duration t) {
        return new LimiterConfig(redisUrl, t, failurePolicy, tiers, leaseWindow);
    }

    public LimiterConfig withFailurePolicy(FailurePolicy p) {
        return new LimiterConfig(redisUrl, timeout, p, tiers, leaseWindow);
    }

    public LimiterConfig withLeaseWindow(Duration w) {
        return new LimiterConfig(redisUrl, timeout, failurePolicy, tiers, w);
    }

    /** The key's own override if it has one for this class, else its account tier's limit. */
    public int limitFor(String tier, RateLimits keyOverrides, LimitClass cls) {
        if (keyOverrides != null) {
            Integer own = switch (cls) {
                case GENERAL -> keyOverrides.general();
                case IMAGE_SUBMIT -> keyOverrides.imageSubmit();
                case IMAGE_POLL -> keyOverrides.imagePoll();
            };
            if (own != null) {
                return own;
            }
        }
        Map<LimitClass, Integer> limits = tier == null ? null : tiers.get(tier);
        if (limits == null) {
            limits = tiers.get(DEFAULT_TIER);
        }
        return limits.get(cls);
    }

    private static Map<String, Map<LimitClass, Integer>> merge(Map<String, Map<LimitClass, Integer>> given) {
        Map<String, Map<LimitClass, Integer>> merged = new LinkedHashMap<>();
        DEFAULT_TIERS.forEach((name, limits) -> merged.put(name, new EnumMap<>(limits)));
        if (given != null) {
            given.forEach((name, limits) -> {
                Map<LimitClass, Integer> base = merged.computeIfAbsent(name,
                        n -> new EnumMap<>(DEFAULT_TIERS.get(DEFAULT_TIER)));
                if (limits != null) {
                    limits.forEach((cls, rpm) -> {
                        if (rpm == null || rpm < 0) {
                            throw new IllegalArgumentException("tier " + name + ": " + cls.wireName() + " must be >= 0, got " + rpm);
                        }
                        base.put(cls, rpm);
                    });
                }
            });
        }
        Map<String, Map<LimitClass, Integer>> frozen = new LinkedHashMap<>();
        merged.forEach((name, limits) -> frozen.put(name, Map.copyOf(limits)));
        return Map.copyOf(frozen);
    }
}
