package io.tollgate.bench.jmh;

import io.tollgate.proxy.limit.Decision;
import io.tollgate.proxy.limit.InProcessRateLimiter;
import io.tollgate.proxy.limit.LimitClass;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The rate-limit check of every request with the in-process limiter (the default): one GCRA
 * decision per call, across many keys. The Redis limiter's cost is its round trip, measured by
 * {@code RedisLimiterLatency} in the proxy's tests.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RateLimiterBenchmark {

    @Param({"10000"})
    int keys;

    private InProcessRateLimiter limiter;
    private String[] keyIds;
    private int next;

    @Setup
    public void setup() {
        limiter = new InProcessRateLimiter();
        keyIds = new String[keys];
        for (int i = 0; i < keys; i++) {
            keyIds[i] = "key_" + i;
        }
    }

    @TearDown
    public void tearDown() {
        limiter.close();
    }

    @Benchmark
    public Decision acquire() {
        int i = next;
        next = i + 1 == keys ? 0 : i + 1;
        // A limit no key reaches in the run: the common case, a request that is allowed.
        return limiter.acquire(keyIds[i], LimitClass.GENERAL, 1_000_000_000).toCompletableFuture().join();
    }
}
