package io.tollgate.bench.jmh;

import io.tollgate.schema.ApiKey;
import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.RateLimits;
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
import org.openjdk.jmh.annotations.Warmup;

import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The key check of every request: SHA-256 of the presented key (what the catalog is keyed by),
 * then the lookup in the catalog's ConcurrentHashMap.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KeyLookupBenchmark {

    @Param({"10000"})
    int keys;

    private final ConcurrentHashMap<String, ApiKey> byHash = new ConcurrentHashMap<>();
    private String[] presented;
    private String[] hashes;
    private int next;

    @Setup
    public void setup() {
        presented = new String[keys];
        hashes = new String[keys];
        for (int i = 0; i < keys; i++) {
            String plaintext = ApiKeySecrets.generate();
            String hash = ApiKeySecrets.hash(plaintext);
            presented[i] = plaintext;
            hashes[i] = hash;
            byHash.put(hash, new ApiKey("key_" + i, "acct_" + i, "bench", hash, ApiKeySecrets.prefix(plaintext),
                    ApiKey.ACTIVE, null, null, null, null, null, RateLimits.NONE, Instant.EPOCH));
        }
    }

    private int index() {
        int i = next;
        next = i + 1 == keys ? 0 : i + 1;
        return i;
    }

    /** What the proxy does per request. */
    @Benchmark
    public ApiKey hashAndLookup() {
        return byHash.get(ApiKeySecrets.hash(presented[index()]));
    }

    @Benchmark
    public String hashOnly() {
        return ApiKeySecrets.hash(presented[index()]);
    }

    @Benchmark
    public ApiKey lookupOnly() {
        return byHash.get(hashes[index()]);
    }
}
