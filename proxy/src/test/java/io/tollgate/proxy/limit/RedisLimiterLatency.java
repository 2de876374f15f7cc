package io.tollgate.proxy.limit;

import java.util.Arrays;
import java.util.UUID;

/**
 * Round trip of one {@link RedisRateLimiter#acquire} (EVALSHA of the GCRA script) against a
 * running Redis, one call at a time: median and p99 over 20,000 calls after a warm-up.
 * Not a test; run by hand:
 * {@code java -cp proxy/target/test-classes:proxy/target/classes:<deps> io.tollgate.proxy.limit.RedisLimiterLatency [redis://127.0.0.1:6379]}
 */
public final class RedisLimiterLatency {

    public static void main(String[] args) {
        String url = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int calls = 20_000;
        String prefix = "latency-" + UUID.randomUUID();
        try (RedisLink link = RedisLink.open(url, LimiterConfig.DEFAULT_TIMEOUT)) {
            RedisRateLimiter limiter = new RedisRateLimiter(link, FailurePolicy.CLOSED);
            for (int i = 0; i < 5_000; i++) {
                limiter.acquire(prefix + (i % 100), LimitClass.GENERAL, 1_000_000).toCompletableFuture().join();
            }
            long[] nanos = new long[calls];
            int unavailable = 0;
            for (int i = 0; i < calls; i++) {
                long start = System.nanoTime();
                Decision d = limiter.acquire(prefix + (i % 100), LimitClass.GENERAL, 1_000_000).toCompletableFuture().join();
                nanos[i] = System.nanoTime() - start;
                unavailable += d.unavailable() ? 1 : 0;
            }
            Arrays.sort(nanos);
            System.out.printf("%s: %d sequential acquires, median %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs, unavailable %d%n",
                    url, calls, nanos[calls / 2] / 1e3, nanos[(int) (calls * 0.99)] / 1e3,
                    nanos[(int) (calls * 0.999)] / 1e3, nanos[calls - 1] / 1e3, unavailable);
        }
    }
}
