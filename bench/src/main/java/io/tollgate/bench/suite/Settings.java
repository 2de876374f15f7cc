package io.tollgate.bench.suite;

import java.time.Duration;
import java.util.List;

/**
 * How long and how hard each scenario runs. The fixed rates, the saturation and the SSE
 * measurement each run in {@code rounds} interleaved slices: round after round, every contender
 * runs its share ({@code rateDuration / rounds}, …) in turn, each round starting with the next
 * contender, so that all of them see the same phases of a VM whose speed drifts from minute to
 * minute, and a difference between two contenders is not the minute it was measured in. {@link #forFullRun()} is the real measurement (about eight
 * minutes of load, after two minutes of warm-up per contender); {@link #forQuickRun()} keeps every scenario and contender but shortens them, and
 * holds 2,000 streams instead of 10,000, for a smoke run of under three minutes.
 */
public record Settings(
        boolean quick,
        int rounds,
        Duration warmup,
        List<Integer> rates,
        Duration rateDuration,
        int rateConnections,
        Duration grace,
        Duration saturation,
        int saturationConnections,
        double sseRate,
        Duration sseWarmup,
        Duration sseDuration,
        int sseChunks,
        int sseChunkDelayMs,
        int sseConnections,
        Duration uploadWarmup,
        Duration uploadDuration,
        int uploadConnections,
        int uploadBytes,
        int probeStep,
        Duration probeSettle,
        int streams,
        int streamChunks,
        int streamChunkDelayMs,
        double streamOpenRate,
        Duration streamHold) {

    /** 512 KB, the proxy's body limit (SPEC: 524,288 bytes), exactly. */
    public static final int UPLOAD_BYTES = 512 * 1024;

    public static Settings forFullRun() {
        return new Settings(false, 3, Duration.ofSeconds(120), List.of(1_000, 2_000, 5_000), Duration.ofSeconds(15), 64,
                Duration.ofSeconds(5), Duration.ofSeconds(15), 64,
                100, Duration.ofSeconds(60), Duration.ofSeconds(20), 100, 10, 250,
                Duration.ofSeconds(10), Duration.ofSeconds(15), 8, UPLOAD_BYTES, 32 * 1024, Duration.ofMillis(150),
                10_000, 100, 600, 500, Duration.ofSeconds(10));
    }

    public static Settings forQuickRun() {
        return new Settings(true, 2, Duration.ofSeconds(2), List.of(1_000, 2_000, 5_000), Duration.ofSeconds(4), 64,
                Duration.ofSeconds(3), Duration.ofSeconds(4), 64,
                50, Duration.ofSeconds(1), Duration.ofSeconds(5), 100, 10, 150,
                Duration.ofSeconds(1), Duration.ofSeconds(4), 8, UPLOAD_BYTES, 64 * 1024, Duration.ofMillis(100),
                2_000, 40, 750, 1_000, Duration.ofSeconds(3));
    }

    public Settings {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
        }
    }

    /** The same with SSE streams started at {@code rate} a second (TOLLGATE_BENCH_SSE_RATE, for experiments). */
    public Settings withSseRate(double rate) {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("the SSE rate must be positive: " + rate);
        }
        return new Settings(quick, rounds, warmup, rates, rateDuration, rateConnections, grace, saturation,
                saturationConnections, rate, sseWarmup, sseDuration, sseChunks, sseChunkDelayMs, sseConnections,
                uploadWarmup, uploadDuration, uploadConnections, uploadBytes, probeStep, probeSettle, streams,
                streamChunks, streamChunkDelayMs, streamOpenRate, streamHold);
    }

    /** One contender's share of one round: {@code total} split in {@link #rounds} slices. */
    public Duration slice(Duration total) {
        return total.dividedBy(rounds);
    }

    /** A stream of the SSE scenario lasts about this long. */
    public Duration sseStreamLength() {
        return Duration.ofMillis((long) sseChunks * sseChunkDelayMs);
    }
}
